import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.TenantService`: provisioning for the platform operator.
struct TenantAPI: Llmlab_V1_TenantService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    func createTenant(request: Llmlab_V1_CreateTenantRequest, context: ServerContext) async throws -> Llmlab_V1_CreateTenantResponse {
        let slug = try Validate.slug(request.slug)
        let displayName = request.displayName.isEmpty ? slug : try Validate.name(request.displayName, field: "display_name")
        let email = try Validate.email(request.ownerEmail, field: "owner_email")
        let password = try Validate.password(request.ownerPassword, field: "owner_password")
        let tenantID = UUID()
        let (_, wrapped) = try plane.keyVault.newDataKey(tenantID: tenantID.uuidString.lowercased())
        let passwordHash = try await plane.passwordHasher.hash(password)
        let logger = plane.logger
        let auditor = plane.auditor
        let (tenant, owner) = try await plane.database.withControlTransaction { connection in
            let tenant = try await TenantRepository(connection, logger: logger).insert(
                id: tenantID, slug: slug, displayName: displayName, wrappedDataKey: Data(wrapped))
            try await TenantSchemaProvisioner.provision(tenant.scope, on: connection, logger: logger)
            let owner = try await UserRepository(connection, logger: logger).insert(
                UserRecord(id: UUID(), tenantID: tenantID, email: email, passwordHash: passwordHash, role: .owner))
            try await auditor.record(on: connection, log: .control, target: "tenant:\(slug)",
                                     detail: ["tenant_id": tenantID.uuidString.lowercased(), "owner": email])
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "user:\(owner.id.uuidString.lowercased())",
                                     detail: ["event": "tenant created", "owner": email])
            return (tenant, owner)
        }
        logger.info("tenant created", metadata: ["tenant": "\(slug)"])
        return Llmlab_V1_CreateTenantResponse.with {
            $0.tenant = MessageMapping.tenant(tenant)
            $0.ownerUserID = owner.id.uuidString.lowercased()
        }
    }

    func listTenants(request: Llmlab_V1_ListTenantsRequest, context: ServerContext) async throws -> Llmlab_V1_ListTenantsResponse {
        let limit = try Validate.pageSize(request.pageSize)
        let after = try PageCursor.decode(request.pageToken, expectedCount: 1)?.first
        let logger = plane.logger
        let tenants = try await plane.database.withControlTransaction { connection in
            try await TenantRepository(connection, logger: logger).list(limit: limit + 1, afterSlug: after)
        }
        let page = Page(tenants, limit: limit) { PageCursor.encode([$0.slug]) }
        return Llmlab_V1_ListTenantsResponse.with {
            $0.tenants = page.rows.map(MessageMapping.tenant)
            $0.nextPageToken = page.nextToken
        }
    }

    func suspendTenant(request: Llmlab_V1_SuspendTenantRequest, context: ServerContext) async throws -> Llmlab_V1_Tenant {
        let reason = try Validate.text(request.reason, field: "reason")
        return try await setStatus(slugText: request.slug, .suspended, reason: reason)
    }

    func resumeTenant(request: Llmlab_V1_ResumeTenantRequest, context: ServerContext) async throws -> Llmlab_V1_Tenant {
        try await setStatus(slugText: request.slug, .active, reason: "")
    }

    private func setStatus(slugText: String, _ status: TenantRecord.Status, reason: String) async throws -> Llmlab_V1_Tenant {
        let slug = try Validate.slug(slugText)
        let logger = plane.logger
        let auditor = plane.auditor
        let tenant = try await plane.database.withControlTransaction { connection in
            let tenants = TenantRepository(connection, logger: logger)
            guard let existing = try await tenants.find(slug: slug),
                  let updated = try await tenants.setStatus(id: existing.id, status, reason: reason)
            else { throw APIError.notFound("tenant", slug) }
            try await auditor.record(on: connection, log: .control, target: "tenant:\(slug)",
                                     detail: ["status": status.rawValue, "reason": reason])
            return updated
        }
        return MessageMapping.tenant(tenant)
    }

    func deleteTenant(request: Llmlab_V1_DeleteTenantRequest, context: ServerContext) async throws -> Llmlab_V1_DeleteTenantResponse {
        let slug = try Validate.slug(request.slug)
        guard request.confirmSlug == slug else {
            throw ValidationError(field: "confirm_slug", reason: "must repeat the slug (\"\(slug)\") to confirm that the tenant and all its data are deleted")
        }
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withControlTransaction { connection in
            let tenants = TenantRepository(connection, logger: logger)
            guard let tenant = try await tenants.find(slug: slug) else { throw APIError.notFound("tenant", slug) }
            try await TenantSchemaProvisioner.drop(tenant.scope, on: connection, logger: logger)
            try await tenants.delete(id: tenant.id)
            try await auditor.record(on: connection, log: .control, target: "tenant:\(slug)",
                                     detail: ["tenant_id": tenant.id.uuidString.lowercased()])
        }
        logger.info("tenant deleted", metadata: ["tenant": "\(slug)"])
        return Llmlab_V1_DeleteTenantResponse()
    }
}
