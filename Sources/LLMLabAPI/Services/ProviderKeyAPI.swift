import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.ProviderKeyService`. Secrets are sealed with the tenant's data key under
/// associated data that binds them to tenant and key id, so a ciphertext copied to
/// another row or tenant does not open.
struct ProviderKeyAPI: Llmlab_V1_ProviderKeyService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }


    func putProviderKey(request: Llmlab_V1_PutProviderKeyRequest, context: ServerContext) async throws -> Llmlab_V1_ProviderKey {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let projectID = try Validate.id(request.projectID, field: "project_id")
        let provider = try EnumMapping.provider(request.provider, field: "provider")
        let name = try ProviderKeyValidation.keyName(request.name.isEmpty ? "default" : request.name)
        let secret = try ProviderKeyValidation.secret(request.secret)
        let azure = provider == .azureOpenAI ? try ProviderKeyValidation.azure(request.azure, present: request.hasAzure) : nil
        guard principal.mayAccess(project: projectID) else { throw APIError.notFound("project", request.projectID) }
        let dataKey = try plane.keyVault.unwrap([UInt8](tenant.wrappedDataKey), tenantID: tenant.id.uuidString.lowercased())
        let logger = plane.logger
        let auditor = plane.auditor
        let key = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            guard let project = try await ProjectRepository(connection, logger: logger).find(id: projectID) else {
                throw APIError.notFound("project", request.projectID)
            }
            guard project.archivedAt == nil else {
                throw APIError(.failedPrecondition, "project \(project.name) is archived")
            }
            guard project.allowedProviders.isEmpty || project.allowedProviders.contains(provider) else {
                throw APIError(.failedPrecondition, "project \(project.name) does not allow \(provider.rawValue); add it with 'llmlab-admin project update \(projectID.uuidString.lowercased()) --providers …'")
            }
            let keys = ProviderKeyRepository(connection, logger: logger)
            let existing = try await keys.findForUpdate(projectID: projectID, provider: provider, name: name)
            let id = existing?.id ?? UUID()
            let sealed = try dataKey.seal(secret, associatedData: ProviderKeyBinding.associatedData(tenantID: tenant.id, keyID: id))
            let record = ProviderKeyRecord(
                id: id, projectID: projectID, provider: provider, name: name, sealedSecret: Data(sealed),
                lastFour: String(secret.suffix(4)), azureEndpoint: azure?.endpoint ?? "",
                azureDeployment: azure?.deployment ?? "", azureAPIVersion: azure?.apiVersion ?? "")
            let stored = existing == nil ? try await keys.insert(record) : try await keys.rotate(record)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "provider_key:\(id.uuidString.lowercased())",
                                     detail: ["project": projectID.uuidString.lowercased(), "provider": provider.rawValue,
                                              "name": name, "event": existing == nil ? "created" : "rotated"])
            return stored
        }
        return MessageMapping.providerKey(key)
    }

    func listProviderKeys(request: Llmlab_V1_ListProviderKeysRequest, context: ServerContext) async throws -> Llmlab_V1_ListProviderKeysResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let filter = try ProjectFilter(request.projectID, principal: principal)
        let logger = plane.logger
        let keys = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await filter.check(on: connection, logger: logger)
            return try await ProviderKeyRepository(connection, logger: logger).list(projectID: filter.projectID)
        }
        return Llmlab_V1_ListProviderKeysResponse.with { $0.providerKeys = keys.map(MessageMapping.providerKey) }
    }

    func deleteProviderKey(request: Llmlab_V1_DeleteProviderKeyRequest, context: ServerContext) async throws -> Llmlab_V1_DeleteProviderKeyResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let keys = ProviderKeyRepository(connection, logger: logger)
            guard let key = try await keys.find(id: id), principal.mayAccess(project: key.projectID) else {
                throw APIError.notFound("provider key", request.id)
            }
            let routes = try await RouteRepository(connection, logger: logger).routes(usingProviderKey: id)
            guard routes.isEmpty else { throw Self.inUse(request.id, by: routes) }
            do {
                try await keys.delete(id: id)
            } catch where isForeignKeyViolation(error) {
                // A route took the key between the check and the delete (the transaction is
                // aborted now, so the route cannot be looked up).
                throw Self.inUse(request.id, by: [])
            }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "provider_key:\(id.uuidString.lowercased())",
                                     detail: ["provider": key.provider.rawValue, "name": key.name])
        }
        return Llmlab_V1_DeleteProviderKeyResponse()
    }

    /// A key that routes send traffic through cannot go: the routes must change first.
    static func inUse(_ keyID: String, by routes: [RouteReference]) -> APIError {
        let named = routes.map { "\"\($0.alias)\" (\($0.id.uuidString.lowercased()))" }
        let list = named.isEmpty ? "a route" : (named.count == 1 ? "route " : "routes ") + named.joined(separator: ", ")
        return APIError(.failedPrecondition, "provider key \(keyID) is used by \(list); change the route first (llmlab-admin route set … or route delete …)")
    }
}
