public import Foundation
public import LLMLabCore
public import Logging
public import PostgresNIO

/// A tenant API key as stored: its secret only as SHA-256, with the visible prefix.
public struct ApiKeyRecord: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var name: String
    public var prefix: String
    public var role: Role
    public var projectID: UUID?
    public var scopes: [String]
    public var createdBy: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    /// Optional per-key limits the proxy enforces: a monthly budget (calendar month, UTC),
    /// requests per minute and tokens per minute.
    public var limits: ApiKeyLimits

    public init(
        id: UUID, tenantID: UUID, name: String, prefix: String, role: Role, projectID: UUID?,
        scopes: [String], createdBy: String, createdAt: Date = Date(), expiresAt: Date?,
        revokedAt: Date? = nil, lastUsedAt: Date? = nil, limits: ApiKeyLimits = ApiKeyLimits()
    ) {
        self.limits = limits
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.prefix = prefix
        self.role = role
        self.projectID = projectID
        self.scopes = scopes
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}

/// A key's optional limits (nil = none).
public struct ApiKeyLimits: Sendable, Hashable {
    public var monthlyBudget: USDAmount?
    public var rpm: Int?
    public var tpm: Int?

    public init(monthlyBudget: USDAmount? = nil, rpm: Int? = nil, tpm: Int? = nil) {
        self.monthlyBudget = monthlyBudget
        self.rpm = rpm
        self.tpm = tpm
    }
}

/// `control.api_keys`, always scoped by tenant except for the lookup by secret hash.
public struct ApiKeyRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func insert(_ key: ApiKeyRecord, secretHash: String) async throws -> ApiKeyRecord {
        let rows = try await connection.query("""
            INSERT INTO control.api_keys (id, tenant_id, name, prefix, secret_hash, role, project_id, scopes, created_by, expires_at,
                                          monthly_budget_usd, rpm_limit, tpm_limit)
            VALUES (\(key.id), \(key.tenantID), \(key.name), \(key.prefix), \(secretHash), \(key.role.rawValue),
                    \(key.projectID), \(key.scopes), \(key.createdBy), \(key.expiresAt),
                    \(key.limits.monthlyBudget?.description)::numeric, \(key.limits.rpm.map(Int32.init(clamping:)))::int4,
                    \(key.limits.tpm.map(Int32.init(clamping:)))::int4)
            RETURNING id, tenant_id, name, prefix, role, project_id, scopes, created_by, created_at, expires_at, revoked_at, last_used_at,
                   monthly_budget_usd::text, rpm_limit, tpm_limit
            """, logger: logger)
        guard let inserted = try await Self.decode(rows).first else {
            throw StoreError(code: .internal, message: "api key insert returned no row")
        }
        return inserted
    }

    /// A usable key (not revoked, not expired) and its tenant, by the hash of its secret.
    public func findUsable(secretHash: String) async throws -> (key: ApiKeyRecord, tenant: TenantRecord)? {
        let rows = try await connection.query("""
            SELECT k.id FROM control.api_keys k
            WHERE k.secret_hash = \(secretHash) AND k.revoked_at IS NULL
              AND (k.expires_at IS NULL OR k.expires_at > now())
            """, logger: logger)
        var found: UUID?
        for try await id in rows.decode(UUID.self) { found = id }
        guard let id = found else { return nil }
        let keyRows = try await connection.query("""
            SELECT id, tenant_id, name, prefix, role, project_id, scopes, created_by, created_at, expires_at, revoked_at, last_used_at,
                   monthly_budget_usd::text, rpm_limit, tpm_limit
            FROM control.api_keys WHERE id = \(id)
            """, logger: logger)
        guard let key = try await Self.decode(keyRows).first,
              let tenant = try await TenantRepository(connection, logger: logger).find(id: key.tenantID)
        else { return nil }
        return (key, tenant)
    }

    /// Records use at most once a minute, so authentication stays a read on most calls.
    public func touch(id: UUID) async throws {
        try await connection.query("""
            UPDATE control.api_keys SET last_used_at = now()
            WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            """, logger: logger)
    }

    public func find(tenantID: UUID, id: UUID) async throws -> ApiKeyRecord? {
        let rows = try await connection.query("""
            SELECT id, tenant_id, name, prefix, role, project_id, scopes, created_by, created_at, expires_at, revoked_at, last_used_at,
                   monthly_budget_usd::text, rpm_limit, tpm_limit
            FROM control.api_keys WHERE tenant_id = \(tenantID) AND id = \(id)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Newest first, keyset-paginated on (created_at, id).
    public func list(tenantID: UUID, includeRevoked: Bool, limit: Int, before: (Date, UUID)?) async throws -> [ApiKeyRecord] {
        let hasCursor = before != nil
        let micros = before.map { microsSinceEpoch($0.0) } ?? 0
        let beforeID = before?.1 ?? UUID()
        let rows = try await connection.query("""
            SELECT id, tenant_id, name, prefix, role, project_id, scopes, created_by, created_at, expires_at, revoked_at, last_used_at,
                   monthly_budget_usd::text, rpm_limit, tpm_limit
            FROM control.api_keys
            WHERE tenant_id = \(tenantID) AND (\(includeRevoked) OR revoked_at IS NULL)
              AND (NOT \(hasCursor) OR (created_at, id) < ('epoch'::timestamptz + \(micros) * interval '1 microsecond', \(beforeID)))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    public func revoke(tenantID: UUID, id: UUID) async throws -> ApiKeyRecord? {
        let rows = try await connection.query("""
            UPDATE control.api_keys SET revoked_at = COALESCE(revoked_at, now())
            WHERE tenant_id = \(tenantID) AND id = \(id)
            RETURNING id, tenant_id, name, prefix, role, project_id, scopes, created_by, created_at, expires_at, revoked_at, last_used_at,
                   monthly_budget_usd::text, rpm_limit, tpm_limit
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Changes a live key's name and limits; `nil` leaves a field alone, `.some(nil)` clears
    /// a limit. Only the changed columns are written, so concurrent updates of different
    /// fields do not undo each other. Nil when the tenant holds no such live key (another
    /// tenant's id, or a key revoked meanwhile).
    public func update(
        tenantID: UUID, id: UUID, name: String?, monthlyBudget: USDAmount??, rpm: Int??, tpm: Int??
    ) async throws -> ApiKeyRecord? {
        let setName = name != nil
        let setBudget = monthlyBudget != nil
        let budgetText: String? = monthlyBudget.flatMap { $0?.description }
        let setRPM = rpm != nil
        let rpmValue: Int32? = rpm.flatMap { $0.map(Int32.init(clamping:)) }
        let setTPM = tpm != nil
        let tpmValue: Int32? = tpm.flatMap { $0.map(Int32.init(clamping:)) }
        let rows = try await connection.query("""
            UPDATE control.api_keys SET
                name = CASE WHEN \(setName) THEN \(name ?? "") ELSE name END,
                monthly_budget_usd = CASE WHEN \(setBudget) THEN \(budgetText)::numeric ELSE monthly_budget_usd END,
                rpm_limit = CASE WHEN \(setRPM) THEN \(rpmValue)::int4 ELSE rpm_limit END,
                tpm_limit = CASE WHEN \(setTPM) THEN \(tpmValue)::int4 ELSE tpm_limit END
            WHERE tenant_id = \(tenantID) AND id = \(id) AND revoked_at IS NULL
            RETURNING id, tenant_id, name, prefix, role, project_id, scopes, created_by, created_at, expires_at, revoked_at, last_used_at,
                   monthly_budget_usd::text, rpm_limit, tpm_limit
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [ApiKeyRecord] {
        var result: [ApiKeyRecord] = []
        for try await row in rows {
            let (id, tenant, name, prefix, role, project, scopes, createdBy, created, expires, revoked, used) = try row.decode(
                (UUID, UUID, String, String, String, UUID?, [String], String, Date, Date?, Date?, Date?).self)
            let columns = row.makeRandomAccess()
            let budget = try columns[12].decode(String?.self)
            let limits = ApiKeyLimits(
                monthlyBudget: try budget.map { try USDAmount.parse(ProjectRepository.trimNumeric($0), field: "monthly_budget_usd") },
                rpm: try columns[13].decode(Int32?.self).map(Int.init), tpm: try columns[14].decode(Int32?.self).map(Int.init))
            result.append(ApiKeyRecord(
                id: id, tenantID: tenant, name: name, prefix: prefix, role: Role(rawValue: role) ?? .viewer,
                projectID: project, scopes: scopes, createdBy: createdBy, createdAt: created,
                expiresAt: expires, revokedAt: revoked, lastUsedAt: used, limits: limits))
        }
        return result
    }
}
