import Foundation
public import GRPCCore
import LLMLabCore
public import LLMLabStore
public import Logging

/// The one gate every RPC passes: look up the method's permission (unknown methods are
/// denied), authenticate the bearer token, refuse suspended tenants, check the role,
/// audit denials, then run the handler with a ``CallContext`` bound and map whatever it
/// throws to a single `RPCError`.
public struct AuthorizationInterceptor: ServerInterceptor {
    let authenticator: Authenticator
    let database: Database
    let auditor: Auditor
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.authenticator = Authenticator(database: database, logger: logger)
        self.database = database
        self.auditor = Auditor(logger: logger)
        self.logger = logger
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor.fullyQualifiedMethod
        let requestID = UUID().uuidString.lowercased()
        var call = CallContext(principal: nil, requestID: requestID, peer: context.remotePeer, method: method)
        do {
            guard let permission = RBACPolicy.permission(forMethod: method) else {
                throw APIError(.permissionDenied, "\(method) is not permitted for anyone")
            }
            if permission != .open {
                let (principal, tenant) = try await authenticate(request.metadata, permission: permission, call: call)
                call.principal = principal
                call.tenant = tenant
            }
            let bound = call
            var response = try await CallContext.$current.withValue(bound) {
                try await next(request, context)
            }
            // Unary handlers have finished (and committed) here: let the proxy's caches
            // of keys, projects and routes reload after anything that may have changed them.
            if !Self.isReadOnly(method) { database.changes.bump() }
            // Streaming bodies run later, in the producer: bind the context and map errors there too.
            if case .success(var contents) = response.accepted {
                let producer = contents.producer
                let logger = self.logger
                contents.producer = { writer in
                    do {
                        return try await CallContext.$current.withValue(bound) { try await producer(writer) }
                    } catch {
                        throw ErrorMapping.rpcError(for: error, requestID: requestID, logger: logger)
                    }
                }
                response.accepted = .success(contents)
            }
            return response
        } catch {
            throw ErrorMapping.rpcError(for: error, requestID: requestID, logger: logger)
        }
    }

    private func authenticate(_ metadata: Metadata, permission: Permission, call: CallContext) async throws -> (Principal, TenantRecord?) {
        guard let token = Self.bearerToken(metadata) else {
            throw APIError(.unauthenticated, "this call needs a credential: send 'authorization: Bearer <token>' (llmlab-admin login, an API key, or the operator token)")
        }
        let (principal, tenant) = try await authenticator.authenticate(token: token)
        if let tenant, tenant.status == .suspended {
            throw APIError(.failedPrecondition, "tenant \(tenant.slug) is suspended; its data is kept, and the operator can resume it (llmlab-admin tenant resume \(tenant.slug))")
        }
        guard RBACPolicy.allows(principal, permission) else {
            try await auditDenial(principal, call: call)
            throw APIError(.permissionDenied, Self.denialMessage(principal, permission))
        }
        return (principal, tenant)
    }

    /// Denied calls are audited in their own transaction: there is no mutation to join.
    private func auditDenial(_ principal: Principal, call: CallContext) async throws {
        var denied = call
        denied.principal = principal
        let auditor = self.auditor
        try await CallContext.$current.withValue(denied) {
            if let tenantID = principal.tenantID {
                let scope = TenantScope(tenantID: tenantID)
                try await database.withTenantTransaction(scope) { connection in
                    try await auditor.record(on: connection, log: .tenant(scope), target: "", outcome: .denied)
                }
            } else {
                try await database.withControlTransaction { connection in
                    try await auditor.record(on: connection, log: .control, target: "", outcome: .denied)
                }
            }
        }
    }

    static func denialMessage(_ principal: Principal, _ permission: Permission) -> String {
        switch principal.kind {
        case .operator:
            return "the operator manages tenants; tenant data is accessed by the tenant's own users"
        case .apiKey where permission == .tracesIngest && !principal.scopes.contains(ApiKeyScope.ingest):
            return "this API key may not export traces: it needs the ingest scope (its scopes: \(principal.scopes.sorted().joined(separator: ", ")))"
        case .apiKey where permission != .tracesIngest && !principal.scopes.contains(ApiKeyScope.control):
            return "this API key is not scoped for the control API (its scopes: \(principal.scopes.sorted().joined(separator: ", ")))"
        default:
            if permission == .tenantsManage {
                return "only the platform operator can manage tenants"
            }
            return "role \(principal.role?.rawValue ?? "none") may not do this (needs \(permission.rawValue))"
        }
    }

    /// Methods that change nothing the proxy caches (reads, health, sessions).
    static func isReadOnly(_ method: String) -> Bool {
        let name = method.split(separator: "/").last.map(String.init) ?? method
        return ["List", "Get", "Check", "Watch", "Verify", "WhoAmI", "Login", "Logout", "Query", "Explain"]
            .contains { name.hasPrefix($0) }
    }

    /// `authorization: Bearer <token>`; the scheme is case-insensitive.
    static func bearerToken(_ metadata: Metadata) -> String? {
        for value in metadata[stringValues: "authorization"] {
            let parts = value.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingCharacters(in: .whitespaces)
                if !token.isEmpty { return token }
            }
        }
        return nil
    }
}
