public import Foundation
public import LLMLabCore
public import Logging
public import PostgresNIO

/// `routes` and `route_deployments` in a tenant schema (use inside a tenant transaction).
/// A route is always read and written whole, with its deployments in their given order.
public struct RouteRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Creates the route for (project, alias), or replaces the strategy and every deployment
    /// of the existing one, which keeps its id and creation time. The route row is locked
    /// by the upsert, so concurrent sets of one alias apply one after the other.
    ///
    /// A deployment whose (provider, model, provider key) the route already had keeps that
    /// deployment's id; the others keep the ids they come with.
    public func set(
        projectID: UUID, alias: String, strategy: RouteStrategy, deployments: [RouteDeploymentRecord]
    ) async throws -> (route: RouteRecord, created: Bool) {
        do {
            let newID = UUID()
            let rows = try await connection.query("""
                INSERT INTO routes (id, project_id, alias, strategy)
                VALUES (\(newID), \(projectID), \(alias), \(strategy.rawValue))
                ON CONFLICT (project_id, alias) DO UPDATE SET strategy = EXCLUDED.strategy, updated_at = now()
                RETURNING id, project_id, alias, strategy, created_at, updated_at
                """, logger: logger)
            guard var route = try await Self.decodeRoutes(rows).first else {
                throw StoreError(code: .internal, message: "route upsert returned no row")
            }
            let created = route.id == newID
            let previous = created ? [] : try await self.deployments(of: [route.id])[route.id] ?? []
            let previousIDs = Dictionary(previous.map { ($0.target, $0.id) }, uniquingKeysWith: { first, _ in first })
            route.deployments = deployments.map { deployment in
                var deployment = deployment
                if let id = previousIDs[deployment.target] { deployment.id = id }
                return deployment
            }
            try await connection.query("DELETE FROM route_deployments WHERE route_id = \(route.id)", logger: logger)
            for (position, deployment) in route.deployments.enumerated() {
                try await connection.query("""
                    INSERT INTO route_deployments
                        (id, route_id, position, provider, model, provider_key_id, weight, priority, timeout_ms)
                    VALUES (\(deployment.id), \(route.id), \(Int32(position)), \(deployment.provider.rawValue),
                            \(deployment.model), \(deployment.providerKeyID), \(Int32(deployment.weight)),
                            \(Int32(deployment.priority)), \(deployment.timeoutMilliseconds.map { Int32($0) }))
                    """, logger: logger)
            }
            return (route, created)
        } catch where isForeignKeyViolation(error) {
            throw StoreError(code: .failedPrecondition, message: "a provider key of this route was deleted while the route was being set; check the keys and retry")
        } catch where isUniqueViolation(error) {
            throw StoreError(code: .conflict, message: "a deployment appears twice in route \"\(alias)\"; each (provider, model, provider key) may appear once")
        }
    }

    public func find(id: UUID) async throws -> RouteRecord? {
        let rows = try await connection.query("""
            SELECT id, project_id, alias, strategy, created_at, updated_at FROM routes WHERE id = \(id)
            """, logger: logger)
        return try await withDeployments(Self.decodeRoutes(rows)).first
    }

    /// The project's route for `alias`, with its deployments; `nil` when there is none.
    public func find(projectID: UUID, alias: String) async throws -> RouteRecord? {
        let rows = try await connection.query("""
            SELECT id, project_id, alias, strategy, created_at, updated_at FROM routes
            WHERE project_id = \(projectID) AND alias = \(alias)
            """, logger: logger)
        return try await withDeployments(Self.decodeRoutes(rows)).first
    }

    /// Ordered by (project, alias), keyset-paginated on that pair; `projectID` limits to one
    /// project.
    public func list(projectID: UUID?, limit: Int, after: (projectID: UUID, alias: String)?) async throws -> [RouteRecord] {
        let hasProject = projectID != nil
        let project = projectID ?? UUID()
        let hasCursor = after != nil
        let afterProject = after?.projectID ?? UUID()
        let afterAlias = after?.alias ?? ""
        let rows = try await connection.query("""
            SELECT id, project_id, alias, strategy, created_at, updated_at FROM routes
            WHERE (NOT \(hasProject) OR project_id = \(project))
              AND (NOT \(hasCursor) OR (project_id, alias) > (\(afterProject), \(afterAlias)))
            ORDER BY project_id, alias LIMIT \(limit)
            """, logger: logger)
        return try await withDeployments(Self.decodeRoutes(rows))
    }

    /// Deletes the route and its deployments; false when there was no such route.
    public func delete(id: UUID) async throws -> Bool {
        let rows = try await connection.query("DELETE FROM routes WHERE id = \(id) RETURNING id", logger: logger)
        return try await rows.collect().count > 0
    }

    /// The routes with a deployment that uses `providerKeyID`, by alias.
    public func routes(usingProviderKey providerKeyID: UUID) async throws -> [RouteReference] {
        let rows = try await connection.query("""
            SELECT DISTINCT r.id, r.project_id, r.alias FROM routes r
            JOIN route_deployments d ON d.route_id = r.id
            WHERE d.provider_key_id = \(providerKeyID)
            ORDER BY r.alias, r.id
            """, logger: logger)
        var result: [RouteReference] = []
        for try await (id, project, alias) in rows.decode((UUID, UUID, String).self) {
            result.append(RouteReference(id: id, projectID: project, alias: alias))
        }
        return result
    }

    /// Deployments of the given routes, grouped by route, each list in position order.
    func deployments(of routeIDs: [UUID]) async throws -> [UUID: [RouteDeploymentRecord]] {
        if routeIDs.isEmpty { return [:] }
        let rows = try await connection.query("""
            SELECT route_id, id, provider, model, provider_key_id, weight, priority, timeout_ms
            FROM route_deployments WHERE route_id = ANY(\(routeIDs))
            ORDER BY route_id, position
            """, logger: logger)
        var result: [UUID: [RouteDeploymentRecord]] = [:]
        for try await (route, id, provider, model, key, weight, priority, timeout) in rows.decode(
            (UUID, UUID, String, String, UUID, Int32, Int32, Int32?).self)
        {
            guard let provider = Provider(rawValue: provider) else { continue }
            result[route, default: []].append(RouteDeploymentRecord(
                id: id, provider: provider, model: model, providerKeyID: key, weight: Int(weight),
                priority: Int(priority), timeoutMilliseconds: timeout.map(Int.init)))
        }
        return result
    }

    private func withDeployments(_ routes: [RouteRecord]) async throws -> [RouteRecord] {
        let deployments = try await self.deployments(of: routes.map(\.id))
        return routes.map { route in
            var route = route
            route.deployments = deployments[route.id] ?? []
            return route
        }
    }

    /// Route rows without their deployments.
    static func decodeRoutes(_ rows: PostgresRowSequence) async throws -> [RouteRecord] {
        var result: [RouteRecord] = []
        for try await (id, project, alias, strategy, created, updated) in rows.decode(
            (UUID, UUID, String, String, Date, Date).self)
        {
            guard let strategy = RouteStrategy(rawValue: strategy) else {
                throw StoreError(code: .internal, message: "route \(id.uuidString.lowercased()) has unknown strategy \(strategy)")
            }
            result.append(RouteRecord(id: id, projectID: project, alias: alias, strategy: strategy, deployments: [],
                                      createdAt: created, updatedAt: updated))
        }
        return result
    }
}
