import Foundation
public import GRPCCore
public import Hummingbird
import HTTPTypes
import LLMLabProto
public import Logging
import NIOCore

/// The browser dashboard under `/ui`: server-rendered pages over the control plane's own
/// RPCs. It holds no data access of its own — every figure comes from a gRPC call made
/// with the browser's session token (over the in-process transport in the server), so
/// RBAC, audit, validation and tenant isolation are exactly the API's.
///
/// Generic over the Hummingbird context so the gateway mounts it on its own router and
/// tests on a plain one; generic over the gRPC transport so tests may use any.
public struct DashboardController<Context: RequestContext, Transport: ClientTransport>: Sendable {
    public struct Configuration: Sendable {
        /// Mark cookies `Secure`: set when the HTTP listener runs TLS.
        public var secureCookies: Bool = false
        /// Deadline of each RPC a page makes.
        public var rpcTimeout: Duration = .seconds(20)
        /// Largest form body accepted.
        public var maxFormBytes: Int = 64 * 1024
        public static var defaults: Configuration { Configuration() }
        public init() {}
    }

    let rpc: ControlPlaneClient<Transport>
    let csrf: CSRFProtection
    let configuration: Configuration
    let logger: Logger

    public init(client: GRPCClient<Transport>, configuration: Configuration = .defaults, logger: Logger) {
        self.rpc = ControlPlaneClient(client: client, timeout: configuration.rpcTimeout)
        self.csrf = CSRFProtection()
        self.configuration = configuration
        self.logger = logger
    }

    /// Mount at `/ui`, with no proxy (virtual-key) middleware in front.
    public var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("static/app.css") { _, _ in PageResponse.asset(Assets.css, contentType: "text/css; charset=utf-8") }
        routes.get("static/app.js") { _, _ in PageResponse.asset(Assets.javascript, contentType: "text/javascript; charset=utf-8") }
        routes.get("login") { request, _ in self.loginPage(request) }
        routes.post("login") { request, context in await self.login(request, context) }
        routes.post("logout") { request, context in await self.logout(request, context) }
        routes.get("/") { request, _ in await self.page(request) { try await self.overview($0) } }
        routes.get("cost") { request, _ in await self.page(request) { try await self.cost($0, query: Self.query(request)) } }
        routes.get("models") { request, _ in await self.page(request) { try await self.models($0, query: Self.query(request)) } }
        routes.get("traces") { request, _ in await self.page(request) { try await self.traces($0, query: Self.query(request)) } }
        routes.get("traces/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await self.page(request) { try await self.trace($0, id: id) }
        }
        routes.get("alerts") { request, _ in await self.page(request) { try await self.alertsPage($0) } }
        routes.get("billing") { request, _ in await self.page(request) { try await self.billing($0, query: Self.query(request)) } }
        addSettingsRoutes(routes)
        routes.get("**") { request, _ in await self.page(request) { _ in throw DashboardError.notFound } }
        return routes
    }

    // MARK: Pipelines

    /// A GET page: the session from its cookie (no session → the login page), the page's
    /// RPCs, errors as pages, the security headers and Server-Timing.
    func page(_ request: Request, _ body: @Sendable (DashboardSession) async throws -> HTML) async -> Response {
        let started = ContinuousClock.now
        var session: DashboardSession?
        do {
            let current = try await resolveSession(request)
            session = current
            return PageResponse.html(try await body(current), started: started)
        } catch {
            return failure(error, session: session, started: started, request: request)
        }
    }

    /// What a form handler decides.
    enum FormOutcome: Sendable {
        /// Post/redirect/get.
        case redirect(String)
        /// A page shown directly (a secret returned once).
        case page(HTML)
    }

    /// A POST form: session, CSRF (before any RPC), the handler; a control-plane validation
    /// error re-renders the form's page with the message (`invalid`), never a stack.
    func form(_ request: Request, _ context: Context,
              invalid: @escaping @Sendable (DashboardSession, String) async throws -> HTML,
              _ body: @Sendable (DashboardSession, FormData) async throws -> FormOutcome) async -> Response {
        let started = ContinuousClock.now
        var session: DashboardSession?
        do {
            guard let token = Self.sessionToken(request) else { throw DashboardError.signedOut }
            let fields = try await readForm(request, context)
            guard csrf.verify(fields.raw("_csrf"), session: token) else { throw DashboardError.csrf }
            let current = try await resolveSession(request)
            session = current
            do {
                switch try await body(current, fields) {
                case .redirect(let location): return PageResponse.redirect(location, started: started)
                case .page(let html): return PageResponse.html(html, started: started)
                }
            } catch let error as RPCError where Self.isUserError(error.code) {
                return PageResponse.html(try await invalid(current, error.message), status: .unprocessableContent, started: started)
            } catch let error as DashboardError {
                guard case .invalid(let message) = error else { throw error }
                return PageResponse.html(try await invalid(current, message), status: .unprocessableContent, started: started)
            }
        } catch {
            return failure(error, session: session, started: started, request: request)
        }
    }

    /// Codes that mean "the input was wrong", shown next to the form.
    static func isUserError(_ code: RPCError.Code) -> Bool {
        [.invalidArgument, .failedPrecondition, .alreadyExists, .outOfRange, .resourceExhausted].contains(code)
    }

    func readForm(_ request: Request, _ context: Context) async throws -> FormData {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxFormBytes)
        } catch {
            throw DashboardError.invalidRequest("the form is larger than \(configuration.maxFormBytes) bytes")
        }
        return FormData(String(buffer: buffer))
    }

    /// The signed-in user behind the session cookie, checked by the control plane (WhoAmI).
    func resolveSession(_ request: Request) async throws -> DashboardSession {
        guard let token = Self.sessionToken(request) else { throw DashboardError.signedOut }
        let principal: Llmlab_V1_Principal
        do {
            principal = try await rpc.auth.whoAmI(.init(), metadata: ["authorization": "Bearer \(token)"], options: rpc.options)
        } catch let error as RPCError where error.code == .unauthenticated {
            throw DashboardError.signedOut
        }
        guard principal.kind == .user else { throw DashboardError.signedOut }
        return DashboardSession(token: token, principal: principal, csrf: csrf.token(forSession: token))
    }

    static func sessionToken(_ request: Request) -> String? {
        guard let value = request.cookies[DashboardCookies.session]?.value, !value.isEmpty, value.utf8.count <= 200 else { return nil }
        return value
    }

    static func query(_ request: Request) -> FormData {
        FormData(request.uri.query ?? "")
    }

    /// Errors as pages: signed out → login; CSRF and permission → 403; unknown ids → 404;
    /// anything else → a plain 500 page (details only in the log).
    func failure(_ error: any Error, session: DashboardSession?, started: ContinuousClock.Instant, request: Request) -> Response {
        switch error {
        case DashboardError.signedOut:
            return PageResponse.redirect("/ui/login", started: started, cookies: [DashboardCookies.clearSession(secure: configuration.secureCookies)])
        case let error as RPCError where error.code == .unauthenticated:
            return PageResponse.redirect("/ui/login", started: started, cookies: [DashboardCookies.clearSession(secure: configuration.secureCookies)])
        case DashboardError.csrf:
            return errorPage(.forbidden, "This form has expired or did not come from this dashboard",
                             "Nothing was changed. Reload the page and submit the form again.", session: session, started: started)
        case let error as RPCError where error.code == .permissionDenied:
            return errorPage(.forbidden, "You may not do this", error.message, session: session, started: started)
        case DashboardError.notFound:
            return errorPage(.notFound, "Not found", "There is nothing at this address.", session: session, started: started)
        case let error as RPCError where error.code == .notFound:
            return errorPage(.notFound, "Not found", error.message, session: session, started: started)
        case DashboardError.invalidRequest(let message), DashboardError.invalid(let message):
            return errorPage(.badRequest, "This request is not valid", message, session: session, started: started)
        case let error as RPCError where Self.isUserError(error.code):
            return errorPage(.badRequest, "This request is not valid", error.message, session: session, started: started)
        default:
            logger.error("dashboard page failed", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            return errorPage(.internalServerError, "Something went wrong",
                             "The server could not build this page. Try again; if it keeps failing, the server log has the details.",
                             session: session, started: started)
        }
    }

    func errorPage(_ status: HTTPResponse.Status, _ title: String, _ message: String, session: DashboardSession?,
                   started: ContinuousClock.Instant) -> Response {
        let content: HTML = """
        <section class="error-page" data-testid="error-page" data-status="\(Int(status.code))"><h1>\(title)</h1>\
        <p>\(message)</p><p><a href="/ui">Back to the overview</a></p></section>
        """
        return PageResponse.html(Layout.page(title: title, section: nil, session: session, content: content), status: status,
                                 started: started)
    }
}

/// Failures of the dashboard itself (RPC failures arrive as `RPCError`).
enum DashboardError: Error, Sendable {
    case signedOut
    case csrf
    case notFound
    /// A malformed request (too large a form): 400.
    case invalidRequest(String)
    /// A form field the dashboard itself rejects before any RPC: the form re-rendered.
    case invalid(String)
}

/// The dashboard's cookies, all `HttpOnly`, `SameSite=Strict`, `Path=/ui`.
enum DashboardCookies {
    static let session = "llmlab_session"
    /// The login form's double-submit CSRF value.
    static let login = "llmlab_login_csrf"

    static func session(_ token: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(name: session, value: token, maxAge: maxAge, path: "/ui", secure: secure, httpOnly: true, sameSite: .strict)
    }

    static func clearSession(secure: Bool) -> Cookie {
        Cookie(name: session, value: "", maxAge: 0, path: "/ui", secure: secure, httpOnly: true, sameSite: .strict)
    }

    static func login(_ value: String, secure: Bool) -> Cookie {
        Cookie(name: login, value: value, maxAge: 3600, path: "/ui", secure: secure, httpOnly: true, sameSite: .strict)
    }
}
