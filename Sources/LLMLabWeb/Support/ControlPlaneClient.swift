public import GRPCCore
import LLMLabProto

/// The dashboard's way into the control plane: the same generated clients the CLI uses,
/// over whatever transport the server hands in (in production the in-process one). Every
/// page goes through the control plane's interceptor, so authentication, RBAC, audit,
/// validation and tenant isolation are the same code paths as for any other client.
struct ControlPlaneClient<Transport: ClientTransport>: Sendable {
    let client: GRPCClient<Transport>
    /// Per-call deadline: a page never hangs on a stuck query.
    let timeout: Duration

    var auth: Llmlab_V1_AuthService.Client<Transport> { .init(wrapping: client) }
    var projects: Llmlab_V1_ProjectService.Client<Transport> { .init(wrapping: client) }
    var analytics: Llmlab_V1_AnalyticsService.Client<Transport> { .init(wrapping: client) }
    var traces: Llmlab_V1_TraceQueryService.Client<Transport> { .init(wrapping: client) }
    var alerts: Llmlab_V1_AlertService.Client<Transport> { .init(wrapping: client) }
    var providerKeys: Llmlab_V1_ProviderKeyService.Client<Transport> { .init(wrapping: client) }
    var routes: Llmlab_V1_RouteService.Client<Transport> { .init(wrapping: client) }
    var billing: Llmlab_V1_BillingService.Client<Transport> { .init(wrapping: client) }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }
}

/// The signed-in browser, as the control plane sees it (WhoAmI) plus what its forms need.
struct DashboardSession: Sendable {
    let token: String
    let principal: Llmlab_V1_Principal
    /// The CSRF token every form of this session carries.
    let csrf: String

    /// `authorization: Bearer <session>`, as the CLI sends it.
    var metadata: Metadata { ["authorization": "Bearer \(token)"] }

    /// Whether forms that change projects, provider keys, routes and alert channels are
    /// shown (admins and owners). Hiding is a courtesy: the RPC enforces the role anyway.
    var canManage: Bool { principal.role == .admin || principal.role == .owner }
    /// Whether API-key forms are shown (members may create and revoke their own keys).
    var canWriteKeys: Bool { canManage || principal.role == .member }

    var roleName: String {
        switch principal.role {
        case .viewer: "viewer"
        case .member: "member"
        case .admin: "admin"
        case .owner: "owner"
        default: "none"
        }
    }
}
