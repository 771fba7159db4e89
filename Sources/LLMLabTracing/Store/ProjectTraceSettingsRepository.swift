public import Foundation
import LLMLabStore
public import Logging
public import PostgresNIO

/// A project's trace settings (`projects.trace_retention_days`, `projects.capture_content`)
/// in a tenant schema, for the project RPCs / CLI and for ingest (content capture). Use only
/// inside `Database.withTenantTransaction`.
public struct ProjectTraceSettingsRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// The project's settings; `nil` when this tenant has no such project.
    public func settings(projectID: UUID) async throws -> ProjectTraceSettings? {
        let rows = try await connection.query(
            "SELECT id, trace_retention_days, capture_content FROM projects WHERE id = \(projectID)", logger: logger)
        return try await Self.decode(rows).first
    }

    /// Every project's settings (archived ones too: their traces still expire).
    public func all() async throws -> [ProjectTraceSettings] {
        let rows = try await connection.query(
            "SELECT id, trace_retention_days, capture_content FROM projects ORDER BY id", logger: logger)
        return try await Self.decode(rows)
    }

    /// Changes the given settings (`nil` leaves one alone); returns the result, `nil` when
    /// there is no such live project. Throws `invalidArgument` for a retention outside
    /// ``ProjectTraceSettings/retentionDaysRange``.
    public func update(projectID: UUID, retentionDays: Int? = nil, captureContent: Bool? = nil) async throws -> ProjectTraceSettings? {
        if let retentionDays, !ProjectTraceSettings.retentionDaysRange.contains(retentionDays) {
            let range = ProjectTraceSettings.retentionDaysRange
            throw StoreError(code: .invalidArgument,
                             message: "trace_retention_days must be between \(range.lowerBound) and \(range.upperBound); got \(retentionDays)")
        }
        let setRetention = retentionDays != nil
        let days = Int32(retentionDays ?? ProjectTraceSettings.defaultRetentionDays)
        let setCapture = captureContent != nil
        let capture = captureContent ?? false
        let rows = try await connection.query("""
            UPDATE projects SET
                trace_retention_days = CASE WHEN \(setRetention) THEN \(days) ELSE trace_retention_days END,
                capture_content = CASE WHEN \(setCapture) THEN \(capture) ELSE capture_content END,
                updated_at = now()
            WHERE id = \(projectID) AND archived_at IS NULL
            RETURNING id, trace_retention_days, capture_content
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [ProjectTraceSettings] {
        var result: [ProjectTraceSettings] = []
        for try await (id, days, capture) in rows.decode((UUID, Int32, Bool).self) {
            result.append(ProjectTraceSettings(projectID: id, retentionDays: Int(days), captureContent: capture))
        }
        return result
    }
}
