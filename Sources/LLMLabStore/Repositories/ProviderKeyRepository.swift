public import Foundation
public import LLMLabCore
public import Logging
public import PostgresNIO

/// A provider credential as stored: sealed with the tenant's data key, plus what may be
/// shown (last four characters, Azure target).
public struct ProviderKeyRecord: Sendable, Hashable {
    public var id: UUID
    public var projectID: UUID
    public var provider: Provider
    public var name: String
    public var sealedSecret: Data
    public var lastFour: String
    public var azureEndpoint: String
    public var azureDeployment: String
    public var azureAPIVersion: String
    public var createdAt: Date
    public var rotatedAt: Date?

    public init(
        id: UUID, projectID: UUID, provider: Provider, name: String, sealedSecret: Data, lastFour: String,
        azureEndpoint: String = "", azureDeployment: String = "", azureAPIVersion: String = "",
        createdAt: Date = Date(), rotatedAt: Date? = nil
    ) {
        self.id = id
        self.projectID = projectID
        self.provider = provider
        self.name = name
        self.sealedSecret = sealedSecret
        self.lastFour = lastFour
        self.azureEndpoint = azureEndpoint
        self.azureDeployment = azureDeployment
        self.azureAPIVersion = azureAPIVersion
        self.createdAt = createdAt
        self.rotatedAt = rotatedAt
    }
}

/// `provider_keys` in a tenant schema (use inside a tenant transaction).
public struct ProviderKeyRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }


    /// The existing key for (project, provider, name), locked for rotation.
    public func findForUpdate(projectID: UUID, provider: Provider, name: String) async throws -> ProviderKeyRecord? {
        let rows = try await connection.query("""
            SELECT id, project_id, provider, name, sealed_secret, last_four, azure_endpoint, azure_deployment,
                   azure_api_version, created_at, rotated_at
            FROM provider_keys WHERE project_id = \(projectID) AND provider = \(provider.rawValue) AND name = \(name)
            FOR UPDATE
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    public func insert(_ key: ProviderKeyRecord) async throws -> ProviderKeyRecord {
        let rows = try await connection.query("""
            INSERT INTO provider_keys (id, project_id, provider, name, sealed_secret, last_four,
                                       azure_endpoint, azure_deployment, azure_api_version)
            VALUES (\(key.id), \(key.projectID), \(key.provider.rawValue), \(key.name), \(key.sealedSecret),
                    \(key.lastFour), \(key.azureEndpoint), \(key.azureDeployment), \(key.azureAPIVersion))
            RETURNING id, project_id, provider, name, sealed_secret, last_four, azure_endpoint, azure_deployment,
                      azure_api_version, created_at, rotated_at
            """, logger: logger)
        guard let inserted = try await Self.decode(rows).first else {
            throw StoreError(code: .internal, message: "provider key insert returned no row")
        }
        return inserted
    }

    /// Replaces the sealed secret (and Azure target) of an existing key: a rotation.
    public func rotate(_ key: ProviderKeyRecord) async throws -> ProviderKeyRecord {
        let rows = try await connection.query("""
            UPDATE provider_keys SET sealed_secret = \(key.sealedSecret), last_four = \(key.lastFour),
                azure_endpoint = \(key.azureEndpoint), azure_deployment = \(key.azureDeployment),
                azure_api_version = \(key.azureAPIVersion), rotated_at = now()
            WHERE id = \(key.id)
            RETURNING id, project_id, provider, name, sealed_secret, last_four, azure_endpoint, azure_deployment,
                      azure_api_version, created_at, rotated_at
            """, logger: logger)
        guard let rotated = try await Self.decode(rows).first else {
            throw StoreError(code: .notFound, message: "provider key \(key.id) does not exist")
        }
        return rotated
    }

    public func find(id: UUID) async throws -> ProviderKeyRecord? {
        let rows = try await connection.query("""
            SELECT id, project_id, provider, name, sealed_secret, last_four, azure_endpoint, azure_deployment,
                   azure_api_version, created_at, rotated_at
            FROM provider_keys WHERE id = \(id)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    public func list(projectID: UUID?) async throws -> [ProviderKeyRecord] {
        let filter = projectID != nil
        let project = projectID ?? UUID()
        let rows = try await connection.query("""
            SELECT id, project_id, provider, name, sealed_secret, last_four, azure_endpoint, azure_deployment,
                   azure_api_version, created_at, rotated_at
            FROM provider_keys WHERE (NOT \(filter) OR project_id = \(project))
            ORDER BY project_id, provider, name
            """, logger: logger)
        return try await Self.decode(rows)
    }

    public func delete(id: UUID) async throws {
        try await connection.query("DELETE FROM provider_keys WHERE id = \(id)", logger: logger)
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [ProviderKeyRecord] {
        var result: [ProviderKeyRecord] = []
        for try await (id, project, provider, name, sealed, lastFour, endpoint, deployment, version, created, rotated) in rows.decode(
            (UUID, UUID, String, String, Data, String, String, String, String, Date, Date?).self)
        {
            guard let provider = Provider(rawValue: provider) else { continue }
            result.append(ProviderKeyRecord(
                id: id, projectID: project, provider: provider, name: name, sealedSecret: sealed, lastFour: lastFour,
                azureEndpoint: endpoint, azureDeployment: deployment, azureAPIVersion: version,
                createdAt: created, rotatedAt: rotated))
        }
        return result
    }
}
