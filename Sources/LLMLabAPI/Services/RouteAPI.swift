import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.RouteService`: which upstream deployments a project's model alias goes to.
/// Routes live in the tenant schema, so another tenant's route or key id finds nothing;
/// a project-scoped API key sees only its project's routes.
struct RouteAPI: Llmlab_V1_RouteService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    func setRoute(request: Llmlab_V1_SetRouteRequest, context: ServerContext) async throws -> Llmlab_V1_Route {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let projectID = try Validate.id(request.projectID, field: "project_id")
        let alias = try ModelNameValidation.alias(request.alias)
        let strategy = try RouteValidation.strategy(request.strategy)
        let deployments = try RouteValidation.deployments(request.deployments)
        guard principal.mayAccess(project: projectID) else { throw APIError.notFound("project", request.projectID) }
        let logger = plane.logger
        let auditor = plane.auditor
        let route = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            guard let project = try await ProjectRepository(connection, logger: logger).find(id: projectID) else {
                throw APIError.notFound("project", request.projectID)
            }
            guard project.archivedAt == nil else {
                throw APIError(.failedPrecondition, "project \(project.name) is archived")
            }
            try await Self.checkTargets(deployments, of: project, principal: principal, connection: connection, logger: logger)
            let (route, created): (RouteRecord, Bool)
            do {
                (route, created) = try await RouteRepository(connection, logger: logger).set(
                    projectID: projectID, alias: alias, strategy: strategy, deployments: deployments)
            } catch let error as StoreError where error.code == .failedPrecondition {
                throw APIError(.failedPrecondition, error.message)  // a key went away meanwhile
            }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "route:\(route.id.uuidString.lowercased())",
                                     detail: ["project": projectID.uuidString.lowercased(), "alias": alias,
                                              "strategy": strategy.rawValue, "deployments": "\(deployments.count)",
                                              "targets": deployments.map { "\($0.provider.rawValue):\($0.model)" }.joined(separator: ","),
                                              "event": created ? "created" : "replaced"])
            return route
        }
        return MessageMapping.route(route)
    }

    func listRoutes(request: Llmlab_V1_ListRoutesRequest, context: ServerContext) async throws -> Llmlab_V1_ListRoutesResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let filter = try ProjectFilter(request.projectID, principal: principal)
        let limit = try Validate.pageSize(request.pageSize)
        let after = try Self.cursor(request.pageToken)
        let logger = plane.logger
        let routes = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await filter.check(on: connection, logger: logger)
            return try await RouteRepository(connection, logger: logger).list(projectID: filter.projectID, limit: limit + 1, after: after)
        }
        let page = Page(routes, limit: limit) { PageCursor.encode([$0.projectID.uuidString.lowercased(), $0.alias]) }
        return Llmlab_V1_ListRoutesResponse.with {
            $0.routes = page.rows.map(MessageMapping.route)
            $0.nextPageToken = page.nextToken
        }
    }

    func getRoute(request: Llmlab_V1_GetRouteRequest, context: ServerContext) async throws -> Llmlab_V1_Route {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let route = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await RouteRepository(connection, logger: logger).find(id: id)
        }
        guard let route, principal.mayAccess(project: route.projectID) else { throw APIError.notFound("route", request.id) }
        return MessageMapping.route(route)
    }

    func deleteRoute(request: Llmlab_V1_DeleteRouteRequest, context: ServerContext) async throws -> Llmlab_V1_DeleteRouteResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let routes = RouteRepository(connection, logger: logger)
            guard let route = try await routes.find(id: id), principal.mayAccess(project: route.projectID),
                  try await routes.delete(id: id)
            else { throw APIError.notFound("route", request.id) }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "route:\(id.uuidString.lowercased())",
                                     detail: ["project": route.projectID.uuidString.lowercased(), "alias": route.alias])
        }
        return Llmlab_V1_DeleteRouteResponse()
    }

    func getRouteHealth(request: Llmlab_V1_GetRouteHealthRequest, context: ServerContext) async throws -> Llmlab_V1_RouteHealth {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let (route, health) = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            guard let route = try await RouteRepository(connection, logger: logger).find(id: id),
                  principal.mayAccess(project: route.projectID)
            else { throw APIError.notFound("route", request.id) }
            return (route, try await DeploymentHealthRepository(connection, logger: logger).health(ofRoute: id))
        }
        let now = Date()
        return Llmlab_V1_RouteHealth.with {
            $0.routeID = route.id.uuidString.lowercased()
            $0.alias = route.alias
            $0.deployments = route.deployments.map { deployment in
                let key = DeploymentHealthRepository.HealthKey(providerKeyID: deployment.providerKeyID, model: deployment.model)
                return MessageMapping.deploymentHealth(deployment, health[key], now: now)
            }
        }
    }

    /// What only the database can say about a route's deployments: the project allows each
    /// provider, and each key exists, belongs to the project and is of that provider.
    static func checkTargets(
        _ deployments: [RouteDeploymentRecord], of project: ProjectRecord, principal: Principal,
        connection: PostgresConnection, logger: Logger
    ) async throws {
        let keys = ProviderKeyRepository(connection, logger: logger)
        let projectText = project.id.uuidString.lowercased()
        for (index, deployment) in deployments.enumerated() {
            let field = "deployments[\(index)]"
            let provider = deployment.provider.rawValue
            guard project.allowedProviders.isEmpty || project.allowedProviders.contains(deployment.provider) else {
                let allowed = project.allowedProviders.map(\.rawValue).joined(separator: ", ")
                throw ValidationError(field: "\(field).provider", reason: "project \(project.name) does not allow \(provider) (it allows \(allowed)); add it with 'llmlab-admin project update \(projectText) --providers …'")
            }
            let keyText = deployment.providerKeyID.uuidString.lowercased()
            guard let key = try await keys.find(id: deployment.providerKeyID), principal.mayAccess(project: key.projectID) else {
                throw APIError(.notFound, "\(field).provider_key_id: provider key \(keyText) does not exist")
            }
            guard key.projectID == project.id else {
                throw ValidationError(field: "\(field).provider_key_id", reason: "provider key \(keyText) belongs to another project; use a key of project \(project.name) (llmlab-admin key list --project \(projectText))")
            }
            guard key.provider == deployment.provider else {
                throw ValidationError(field: "\(field).provider_key_id", reason: "provider key \(keyText) is for \(key.provider.rawValue), not \(provider); use a \(provider) key of the project or change the provider")
            }
        }
    }

    /// Decodes a ListRoutes page token: the (project, alias) of the last route shown.
    static func cursor(_ token: String) throws -> (projectID: UUID, alias: String)? {
        guard let parts = try PageCursor.decode(token, expectedCount: 2) else { return nil }
        guard let project = UUID(uuidString: parts[0]) else {
            throw ValidationError(field: "page_token", reason: "is not a token this server issued")
        }
        return (project, parts[1])
    }
}
