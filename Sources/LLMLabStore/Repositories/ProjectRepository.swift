public import Foundation
public import LLMLabCore
public import Logging
public import PostgresNIO

/// A project as the tenant schema stores it.
public struct ProjectRecord: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var monthlyBudget: USDAmount?
    public var allowedProviders: [Provider]
    public var createdAt: Date
    public var updatedAt: Date
    public var archivedAt: Date?
    /// Tracing: whether prompts, completions and tool arguments are stored with spans.
    public var captureContent: Bool = false
    /// Tracing: spans older than this many days are deleted.
    public var traceRetentionDays: Int = ProjectRecord.defaultTraceRetentionDays

    /// The schema's default (tenant migration 0005) and the range it accepts.
    public static let defaultTraceRetentionDays = 30
    public static let traceRetentionDaysRange = 1...3650
}

/// `projects` in a tenant schema. Use only inside `Database.withTenantTransaction`: names
/// are unqualified and resolve through the tenant's search_path and role.
public struct ProjectRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static let columns = """
        id, name, monthly_budget_usd::text, allowed_providers, created_at, updated_at, archived_at,
        capture_content, trace_retention_days
        """

    public func insert(id: UUID, name: String, budget: USDAmount?, allowedProviders: [Provider]) async throws -> ProjectRecord {
        do {
            let rows = try await connection.query("""
                INSERT INTO projects (id, name, monthly_budget_usd, allowed_providers)
                VALUES (\(id), \(name), \(budget?.description)::numeric, \(allowedProviders.map(\.rawValue)))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let project = try await Self.decode(rows).first else {
                throw StoreError(code: .internal, message: "project insert returned no row")
            }
            return project
        } catch where isUniqueViolation(error) {
            throw StoreError(code: .conflict, message: "a live project named \"\(name)\" already exists; choose another name or archive that one")
        }
    }

    public func find(id: UUID) async throws -> ProjectRecord? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns)
            FROM projects WHERE id = \(id)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Oldest first, keyset-paginated on (created_at, id); `only` limits to one project
    /// (project-scoped API keys).
    public func list(includeArchived: Bool, limit: Int, after: (Date, UUID)?, only: UUID?) async throws -> [ProjectRecord] {
        let hasCursor = after != nil
        let micros = after.map { microsSinceEpoch($0.0) } ?? 0
        let afterID = after?.1 ?? UUID()
        let hasOnly = only != nil
        let onlyID = only ?? UUID()
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns)
            FROM projects
            WHERE (\(includeArchived) OR archived_at IS NULL)
              AND (NOT \(hasOnly) OR id = \(onlyID))
              AND (NOT \(hasCursor) OR (created_at, id) > ('epoch'::timestamptz + \(micros) * interval '1 microsecond', \(afterID)))
            ORDER BY created_at, id LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Applies the given changes; `nil` leaves a field alone. `budget: .some(nil)` clears it.
    /// `traceRetentionDays` must lie in ``ProjectRecord/traceRetentionDaysRange`` (the schema checks it too).
    public func update(id: UUID, name: String?, budget: USDAmount??, allowedProviders: [Provider]?,
                       captureContent: Bool? = nil, traceRetentionDays: Int? = nil) async throws -> ProjectRecord? {
        if let traceRetentionDays, !ProjectRecord.traceRetentionDaysRange.contains(traceRetentionDays) {
            let range = ProjectRecord.traceRetentionDaysRange
            throw StoreError(code: .invalidArgument,
                             message: "trace_retention_days must be between \(range.lowerBound) and \(range.upperBound); got \(traceRetentionDays)")
        }
        let setCapture = captureContent != nil
        let capture = captureContent ?? false
        let setRetention = traceRetentionDays != nil
        let retention = Int32(clamping: traceRetentionDays ?? ProjectRecord.defaultTraceRetentionDays)
        let setName = name != nil
        let setBudget = budget != nil
        let budgetText: String? = budget.flatMap { $0?.description }
        let setProviders = allowedProviders != nil
        let providers = (allowedProviders ?? []).map(\.rawValue)
        do {
            let rows = try await connection.query("""
                UPDATE projects SET
                    name = CASE WHEN \(setName) THEN \(name ?? "") ELSE name END,
                    monthly_budget_usd = CASE WHEN \(setBudget) THEN \(budgetText)::numeric ELSE monthly_budget_usd END,
                    allowed_providers = CASE WHEN \(setProviders) THEN \(providers) ELSE allowed_providers END,
                    capture_content = CASE WHEN \(setCapture) THEN \(capture) ELSE capture_content END,
                    trace_retention_days = CASE WHEN \(setRetention) THEN \(retention) ELSE trace_retention_days END,
                    updated_at = now()
                WHERE id = \(id) AND archived_at IS NULL
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            return try await Self.decode(rows).first
        } catch where isUniqueViolation(error) {
            throw StoreError(code: .conflict, message: "a live project named \"\(name ?? "")\" already exists; choose another name")
        }
    }

    public func archive(id: UUID) async throws -> ProjectRecord? {
        let rows = try await connection.query("""
            UPDATE projects SET archived_at = COALESCE(archived_at, now()), updated_at = now()
            WHERE id = \(id)
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [ProjectRecord] {
        var result: [ProjectRecord] = []
        for try await (id, name, budget, providers, created, updated, archived, capture, retention) in rows.decode(
            (UUID, String, String?, [String], Date, Date, Date?, Bool, Int32).self)
        {
            result.append(ProjectRecord(
                id: id, name: name,
                monthlyBudget: try budget.map { try USDAmount.parse(Self.trimNumeric($0), field: "monthly_budget_usd") },
                allowedProviders: providers.compactMap(Provider.init(rawValue:)),
                createdAt: created, updatedAt: updated, archivedAt: archived,
                captureContent: capture, traceRetentionDays: Int(retention)))
        }
        return result
    }

    /// NUMERIC(20,6) prints six decimals ("250.000000"); drop the trailing zeros.
    static func trimNumeric(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
