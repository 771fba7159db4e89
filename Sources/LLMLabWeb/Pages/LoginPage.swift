import Foundation
import GRPCCore
import Hummingbird
import LLMLabProto
import SwiftProtobuf

/// Sign-in and sign-out: AuthService.Login / Logout, the session in an HttpOnly cookie.
extension DashboardController {
    func loginPage(_ request: Request, message: String? = nil, tenant: String = "", email: String = "",
                   status: HTTPResponse.Status = .ok) -> Response {
        let started = ContinuousClock.now
        // Reuse the browser's login cookie when it has one, so two open login tabs both work.
        let existing = request.cookies[DashboardCookies.login]?.value ?? ""
        let value = existing.utf8.count == 43 && existing.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            ? existing : CSRFProtection.randomValue()
        return PageResponse.html(LoginView.render(csrf: value, message: message, tenant: tenant, email: email),
                                 status: status, started: started,
                                 cookies: [DashboardCookies.login(value, secure: configuration.secureCookies)])
    }

    func login(_ request: Request, _ context: Context) async -> Response {
        let started = ContinuousClock.now
        do {
            let fields = try await readForm(request, context)
            guard CSRFProtection.verifyDoubleSubmit(field: fields.raw("_csrf"), cookie: request.cookies[DashboardCookies.login]?.value) else {
                throw DashboardError.csrf
            }
            let tenant = fields["tenant"].lowercased(), email = fields["email"]
            var metadata: Metadata = [:]
            if let address = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress {
                metadata.addString(address, forKey: "x-llmlab-client-address")
            }
            do {
                let response = try await rpc.auth.login(.with {
                    $0.tenant = tenant
                    $0.email = email
                    $0.password = fields.raw("password") ?? ""
                }, metadata: metadata, options: rpc.options)
                let lifetime = max(60, Int(response.expiresAt.seconds - Int64(Date().timeIntervalSince1970)))
                return PageResponse.redirect("/ui", started: started, cookies: [
                    DashboardCookies.session(response.sessionToken, maxAge: lifetime, secure: configuration.secureCookies),
                ])
            } catch let error as RPCError where error.code == .unauthenticated || Self.isUserError(error.code) {
                let message = error.code == .invalidArgument
                    ? "Check the tenant and email: \(error.message)"
                    : error.message
                return loginPage(request, message: message, tenant: tenant, email: email,
                                 status: error.code == .unauthenticated ? .unauthorized
                                     : error.code == .resourceExhausted ? .tooManyRequests : .unprocessableContent)
            }
        } catch {
            return failure(error, session: nil, started: started, request: request)
        }
    }

    func logout(_ request: Request, _ context: Context) async -> Response {
        await form(request, context, invalid: { _, message in throw DashboardError.invalid(message) }) { session, _ in
            _ = try await rpc.auth.logout(.init(), metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/login")
        }.withClearedSession(secure: configuration.secureCookies)
    }
}

extension Response {
    /// After logout (a redirect: signed out, or the session was already gone), the session
    /// cookie cleared too, once.
    func withClearedSession(secure: Bool) -> Response {
        var response = self
        let cleared = response.headers[values: .setCookie].contains { $0.hasPrefix(DashboardCookies.session + "=") }
        if response.status == .seeOther && !cleared { response.setCookie(DashboardCookies.clearSession(secure: secure)) }
        return response
    }
}

/// The sign-in form (tenant slug, email, password).
enum LoginView {
    static func render(csrf: String, message: String?, tenant: String, email: String) -> HTML {
        let error: HTML = message.map { "<div class=\"banner error\" role=\"alert\" data-testid=\"login-error\">\($0)</div>" } ?? .empty
        let content: HTML = """
        <section class="login-box"><h1>Sign in to LLMLab</h1>\(error)
        <form method="post" action="/ui/login" id="login-form" data-testid="login-form">\(Layout.csrfField(csrf))
        <label>Tenant <input name="tenant" autocomplete="organization" required value="\(tenant)" data-testid="login-tenant"></label>
        <label>Email <input name="email" type="email" autocomplete="username" required value="\(email)" data-testid="login-email"></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required data-testid="login-password"></label>
        <button type="submit" class="primary" data-testid="login-submit">Sign in</button></form></section>
        """
        return Layout.page(title: "Sign in", section: nil, session: nil, content: content)
    }
}
