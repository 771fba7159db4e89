import Foundation
import GRPCCore
import HTTPTypes
@testable import LLMLabAPI
import LLMLabProto
import SwiftProtobuf
import Testing

/// Sign-in and sign-out through the dashboard's forms: cookies and their attributes,
/// redirects when signed out, the login form's CSRF cookie, and the security headers.
@Suite("Dashboard sign-in")
struct AuthFlowTests {
    @Test("login failure and success, cookie attributes, headers, logout ends the session")
    func loginFlow() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-auth")
            try await dash.browse { browser in
                // Signed out: every page sends the browser to the login form.
                let signedOut = try await browser.get("/ui/cost")
                #expect(signedOut.status == .seeOther && signedOut.location == "/ui/login")

                let form = try await browser.get("/ui/login")
                #expect(form.status == .ok)
                #expect(form.headers[.init("Content-Security-Policy")!]?.hasPrefix("default-src 'self'") == true)
                #expect(form.headers[.init("X-Frame-Options")!] == "DENY")
                #expect(form.headers[.init("Referrer-Policy")!] == "no-referrer")
                #expect(form.headers[.cacheControl] == "no-store")
                #expect(form.headers[.init("Server-Timing")!]?.hasPrefix("app;dur=") == true)
                let loginCookie = try #require(form.setCookies.first { $0.hasPrefix("llmlab_login_csrf=") })
                #expect(loginCookie.contains("HttpOnly") && loginCookie.contains("SameSite=Strict") && loginCookie.contains("Path=/ui"))
                #expect(!form.body.contains("<script>"), "no inline script")

                let wrong = try await browser.post("/ui/login", [("_csrf", form.csrf ?? ""), ("tenant", tenant.slug),
                                                                 ("email", tenant.ownerEmail), ("password", "not it")])
                #expect(wrong.status == .unauthorized)
                #expect(wrong.contains("data-testid=\"login-error\"") && wrong.contains("the tenant, email or password is wrong"))
                #expect(browser.cookies["llmlab_session"] == nil)

                let ok = try await browser.signIn(tenant: tenant.slug, email: tenant.ownerEmail)
                #expect(ok.status == .seeOther && ok.location == "/ui")
                let session = try #require(ok.setCookies.first { $0.hasPrefix("llmlab_session=lls_") })
                #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/ui"))
                #expect(!session.contains("Secure"))

                let overview = try await browser.get("/ui")
                #expect(overview.status == .ok)
                #expect(overview.contains("data-testid=\"tenant\">web-auth<") && overview.contains("data-testid=\"role\">owner<"))
                #expect(overview.headers[.init("Server-Timing")!]?.hasPrefix("app;dur=") == true)

                // Logout needs the CSRF token; then the session is gone on the server too.
                let token = try #require(browser.cookies["llmlab_session"])
                let forged = try await browser.post("/ui/logout", [])
                #expect(forged.status == .forbidden)
                let out = try await browser.post("/ui/logout", [("_csrf", overview.csrf ?? "")])
                #expect(out.status == .seeOther && out.location == "/ui/login")
                #expect(out.setCookies.contains { $0.hasPrefix("llmlab_session=;") && $0.contains("Max-Age=0") })
                browser.cookies["llmlab_session"] = token
                let after = try await browser.get("/ui")
                #expect(after.status == .seeOther && after.location == "/ui/login")
                let rpc = await rpcCode { _ = try await dash.auth.whoAmI(.init(), metadata: TestDashboard.auth(token)) }
                #expect(rpc == .unauthenticated)

                // A made-up cookie is no session either.
                browser.cookies["llmlab_session"] = "lls_madeup"
                #expect(try await browser.get("/ui/traces").location == "/ui/login")
            }
            // TLS listener: cookies are Secure.
            try await dash.browse(secureCookies: true) { browser in
                let ok = try await browser.signIn(tenant: tenant.slug, email: tenant.ownerEmail)
                #expect(ok.setCookies.contains { $0.hasPrefix("llmlab_session=") && $0.contains("Secure") })
            }
        }
    }

    @Test("login CSRF: without the cookie, or with a different value, the form is refused")
    func loginCSRF() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-login-csrf")
            try await dash.browse { browser in
                let noCookie = try await browser.post("/ui/login", [("_csrf", String(repeating: "a", count: 43)), ("tenant", tenant.slug),
                                                                    ("email", tenant.ownerEmail), ("password", TestDashboard.password)])
                #expect(noCookie.status == .forbidden && noCookie.contains("data-testid=\"error-page\""))
                let form = try await browser.get("/ui/login")
                let mismatch = try await browser.post("/ui/login", [("_csrf", String((form.csrf ?? "").reversed())), ("tenant", tenant.slug),
                                                                    ("email", tenant.ownerEmail), ("password", TestDashboard.password)])
                #expect(mismatch.status == .forbidden)
                #expect(browser.cookies["llmlab_session"] == nil)
            }
        }
    }

    @Test("the browser's address is honoured for throttling only from the in-process transport")
    func peerRule() async throws {
        #expect(AuthAPI.forwardedClientAddress(["x-llmlab-client-address": "203.0.113.7"], peer: "in-process:4242") == "203.0.113.7")
        #expect(AuthAPI.forwardedClientAddress(["x-llmlab-client-address": "203.0.113.7"], peer: "in-process") == "203.0.113.7")
        #expect(AuthAPI.forwardedClientAddress(["x-llmlab-client-address": "203.0.113.7"], peer: "ipv4:127.0.0.1:5555") == nil)
        #expect(AuthAPI.forwardedClientAddress(["x-llmlab-client-address": "203.0.113.7"], peer: "ipv6:[::1]:5555") == nil)
        #expect(AuthAPI.forwardedClientAddress(["x-llmlab-client-address": "a b;c"], peer: "in-process:1") == nil)
        #expect(AuthAPI.forwardedClientAddress([:], peer: "in-process:1") == nil)

        var configuration = ControlPlane.Configuration.defaults
        configuration.loginThrottle.freeFailures = 100
        configuration.loginThrottle.peerFreeFailures = 2
        configuration.loginThrottle.baseDelay = .seconds(120)
        try await TestDashboard.with(configuration: configuration) { dash in
            let tenant = try await dash.makeTenant("web-peer")
            func login(_ email: String, _ password: String, from address: String?) async -> RPCError.Code? {
                var metadata: Metadata = [:]
                if let address { metadata.addString(address, forKey: "x-llmlab-client-address") }
                return await rpcCode {
                    _ = try await dash.auth.login(.with { $0.tenant = tenant.slug; $0.email = email; $0.password = password }, metadata: metadata)
                }
            }
            // Three failures from one browser (different accounts): that browser is throttled…
            for index in 0..<3 {
                #expect(await login("nobody\(index)@web-peer.example", "wrong", from: "198.51.100.1") == .unauthenticated)
            }
            #expect(await login(tenant.ownerEmail, TestDashboard.password, from: "198.51.100.1") == .resourceExhausted)
            // …but another browser, behind the same in-process peer, still signs in.
            #expect(await login(tenant.ownerEmail, TestDashboard.password, from: "198.51.100.2") == nil)
            #expect(await login(tenant.ownerEmail, TestDashboard.password, from: nil) == nil)
        }
    }
}

/// The gRPC status code of whatever `body` throws, or `nil` when it succeeds.
func rpcCode(_ body: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}
