public import Foundation
public import LLMLabCore
public import LLMLabStore
import GRPCCore

/// What the interceptor learned about the current call, bound as a task-local for the
/// handler. `ServerContext` has no slot for identity, so this is how it travels.
public struct CallContext: Sendable {
    /// `nil` only for open methods (Login, health).
    public var principal: Principal?
    /// The caller's tenant as read at authentication (status, wrapped data key).
    public var tenant: TenantRecord?
    /// A unique id per call, echoed in audit rows and logs.
    public var requestID: String
    /// The remote peer as the transport reports it (`ipv4:127.0.0.1:5555`).
    public var peer: String
    /// Full method name, `llmlab.v1.ProjectService/CreateProject`.
    public var method: String

    public init(principal: Principal?, tenant: TenantRecord? = nil, requestID: String, peer: String, method: String) {
        self.principal = principal
        self.tenant = tenant
        self.requestID = requestID
        self.peer = peer
        self.method = method
    }

    @TaskLocal public static var current: CallContext?

    /// The current call's context; handlers only run behind the interceptor, so its
    /// absence is a wiring bug reported as an internal error, not a crash.
    static func require() throws -> CallContext {
        guard let context = current else {
            throw APIError(.internalError, "request context missing")
        }
        return context
    }

    /// The principal of a call whose method requires authentication.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError(.unauthenticated, "this call needs a credential") }
        return principal
    }

    /// The tenant of a tenant-scoped call; the operator has none.
    func requireTenant() throws -> (Principal, TenantRecord) {
        let principal = try requirePrincipal()
        guard let tenant, principal.tenantID == tenant.id else {
            throw APIError(.permissionDenied, "this call acts inside a tenant; sign in as a tenant user (llmlab-admin login) or use a tenant API key")
        }
        return (principal, tenant)
    }
}
