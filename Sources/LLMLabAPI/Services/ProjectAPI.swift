import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.ProjectService`. Runs in tenant transactions: the queries are unqualified
/// and the connection holds only the tenant role, so another tenant's project id simply
/// finds nothing.
struct ProjectAPI: Llmlab_V1_ProjectService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    func createProject(request: Llmlab_V1_CreateProjectRequest, context: ServerContext) async throws -> Llmlab_V1_Project {
        let (principal, tenant) = try CallContext.require().requireTenant()
        guard principal.projectID == nil else {
            throw APIError(.permissionDenied, "a project-scoped API key cannot create projects")
        }
        let name = try Validate.name(request.name, field: "name")
        let budget = request.monthlyBudgetUsd.isEmpty ? nil : try USDAmount.parse(request.monthlyBudgetUsd, field: "monthly_budget_usd")
        let providers = try EnumMapping.providers(request.allowedProviders, field: "allowed_providers")
        let logger = plane.logger
        let auditor = plane.auditor
        let project = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let project = try await ProjectRepository(connection, logger: logger).insert(
                id: UUID(), name: name, budget: budget, allowedProviders: providers)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "project:\(project.id.uuidString.lowercased())",
                                     detail: ["name": name, "budget": budget?.description ?? "none"])
            return project
        }
        return MessageMapping.project(project)
    }

    func listProjects(request: Llmlab_V1_ListProjectsRequest, context: ServerContext) async throws -> Llmlab_V1_ListProjectsResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let limit = try Validate.pageSize(request.pageSize)
        let after = try PageCursor.decodeDateID(request.pageToken)
        let logger = plane.logger
        let projects = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await ProjectRepository(connection, logger: logger).list(
                includeArchived: request.includeArchived, limit: limit + 1, after: after, only: principal.projectID)
        }
        let page = Page(projects, limit: limit) { PageCursor.encode(date: $0.createdAt, id: $0.id) }
        return Llmlab_V1_ListProjectsResponse.with {
            $0.projects = page.rows.map(MessageMapping.project)
            $0.nextPageToken = page.nextToken
        }
    }

    func getProject(request: Llmlab_V1_GetProjectRequest, context: ServerContext) async throws -> Llmlab_V1_Project {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let project = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await ProjectRepository(connection, logger: logger).find(id: id)
        }
        guard let project, principal.mayAccess(project: id) else { throw APIError.notFound("project", request.id) }
        return MessageMapping.project(project)
    }

    func updateProject(request: Llmlab_V1_UpdateProjectRequest, context: ServerContext) async throws -> Llmlab_V1_Project {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let name = request.hasName ? try Validate.name(request.name, field: "name") : nil
        let budget: USDAmount?? = request.hasMonthlyBudgetUsd
            ? .some(request.monthlyBudgetUsd.isEmpty ? nil : try USDAmount.parse(request.monthlyBudgetUsd, field: "monthly_budget_usd"))
            : nil
        let providers = request.replaceAllowedProviders
            ? try EnumMapping.providers(request.allowedProviders, field: "allowed_providers") : nil
        let captureContent = request.hasCaptureContent ? request.captureContent : nil
        let retentionDays: Int? = request.hasTraceRetentionDays ? try Self.retentionDays(request.traceRetentionDays) : nil
        guard name != nil || budget != nil || providers != nil || captureContent != nil || retentionDays != nil else {
            throw ValidationError(field: "name", reason: "nothing to change: set name, monthly_budget_usd, replace_allowed_providers, capture_content or trace_retention_days")
        }
        guard principal.mayAccess(project: id) else { throw APIError.notFound("project", request.id) }
        let logger = plane.logger
        let auditor = plane.auditor
        let project = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let projects = ProjectRepository(connection, logger: logger)
            guard let existing = try await projects.find(id: id) else { throw APIError.notFound("project", request.id) }
            guard existing.archivedAt == nil else {
                throw APIError(.failedPrecondition, "project \(existing.name) is archived and cannot be changed")
            }
            guard let updated = try await projects.update(id: id, name: name, budget: budget, allowedProviders: providers,
                                                          captureContent: captureContent, traceRetentionDays: retentionDays) else {
                throw APIError.notFound("project", request.id)
            }
            var detail: [String: String] = [:]
            if let name { detail["name"] = name }
            if let budget { detail["budget"] = budget?.description ?? "none" }
            if let providers { detail["providers"] = providers.map(\.rawValue).joined(separator: ",") }
            if let captureContent { detail["capture_content"] = captureContent ? "on" : "off" }
            if let retentionDays { detail["trace_retention_days"] = String(retentionDays) }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "project:\(id.uuidString.lowercased())", detail: detail)
            return updated
        }
        return MessageMapping.project(project)
    }

    func archiveProject(request: Llmlab_V1_ArchiveProjectRequest, context: ServerContext) async throws -> Llmlab_V1_Project {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        guard principal.mayAccess(project: id) else { throw APIError.notFound("project", request.id) }
        let logger = plane.logger
        let auditor = plane.auditor
        let project = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            guard let archived = try await ProjectRepository(connection, logger: logger).archive(id: id) else {
                throw APIError.notFound("project", request.id)
            }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "project:\(id.uuidString.lowercased())")
            return archived
        }
        return MessageMapping.project(project)
    }

    /// `trace_retention_days`: within ``ProjectRecord/traceRetentionDaysRange``.
    static func retentionDays(_ value: Int32) throws -> Int {
        let range = ProjectRecord.traceRetentionDaysRange
        guard range.contains(Int(value)) else {
            throw ValidationError(field: "trace_retention_days",
                                  reason: "must be between \(range.lowerBound) and \(range.upperBound) days; got \(value)")
        }
        return Int(value)
    }

    /// For calls elsewhere that attach something to a project: it must exist in the
    /// caller's tenant and not be archived.
    @discardableResult
    static func requireLiveProject(_ id: UUID, tenant: TenantRecord, plane: ControlPlane) async throws -> ProjectRecord {
        let logger = plane.logger
        let project = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await ProjectRepository(connection, logger: logger).find(id: id)
        }
        guard let project else { throw APIError.notFound("project", id.uuidString.lowercased()) }
        guard project.archivedAt == nil else {
            throw APIError(.failedPrecondition, "project \(project.name) is archived")
        }
        return project
    }
}
