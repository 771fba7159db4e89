import Logging
import PostgresNIO

/// The per-schema record of applied migrations (`<schema>.schema_migrations`) and the
/// code that applies one migration and records it. Shared by the control migrator and
/// the tenant provisioner; always runs inside a transaction the caller owns.
enum SchemaMigrationLedger {
    /// Creates `<schema>.schema_migrations` if missing. `quotedSchema` is a quoted identifier
    /// from a constant or a `TenantScope`, never user input.
    static func ensureTable(quotedSchema: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            PostgresQuery(unsafeSQL: """
                CREATE TABLE IF NOT EXISTS \(quotedSchema).schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """),
            logger: logger
        )
    }

    /// version → name of everything recorded in the schema.
    static func appliedVersions(quotedSchema: String, on connection: PostgresConnection, logger: Logger) async throws -> [Int: String] {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT version, name FROM \(quotedSchema).schema_migrations ORDER BY version"),
            logger: logger
        )
        var applied: [Int: String] = [:]
        for try await (version, name) in rows.decode((Int32, String).self) {
            applied[Int(version)] = name
        }
        return applied
    }

    /// Runs every statement of `migration` and records it, on the caller's transaction.
    /// Unqualified names resolve through whatever `search_path` the caller set.
    static func apply(
        _ migration: Migration,
        quotedSchema: String,
        schemaLabel: String,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let statements = SQLScript.statements(in: migration.sql)
        for (offset, statement) in statements.enumerated() {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch {
                throw migrationError(migration, schemaLabel: schemaLabel, statementNumber: offset + 1, statement: statement, error: error)
            }
        }
        do {
            try await connection.query(
                "INSERT INTO \(unescaped: quotedSchema).schema_migrations (version, name) VALUES (\(Int32(migration.version)), \(migration.name))",
                logger: logger
            )
        } catch {
            throw migrationError(migration, schemaLabel: schemaLabel, statementNumber: nil, statement: nil, error: error)
        }
        logger.info("applied migration", metadata: [
            "schema": "\(schemaLabel)", "version": "\(migration.version)", "migration": "\(migration.name)",
        ])
    }

    /// Applies, in order, every migration not yet recorded. Returns how many were applied.
    @discardableResult
    static func applyPending(
        _ migrations: [Migration],
        quotedSchema: String,
        schemaLabel: String,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int {
        let applied = try await appliedVersions(quotedSchema: quotedSchema, on: connection, logger: logger)
        warnAboutUnknown(applied, known: migrations, schemaLabel: schemaLabel, logger: logger)
        var count = 0
        for migration in migrations where applied[migration.version] == nil {
            try await apply(migration, quotedSchema: quotedSchema, schemaLabel: schemaLabel, on: connection, logger: logger)
            count += 1
        }
        return count
    }

    /// A schema newer than this binary (a later version ran against it), or a renamed file,
    /// is worth a warning but not a refusal: rolling deployments run old and new side by side.
    static func warnAboutUnknown(_ applied: [Int: String], known: [Migration], schemaLabel: String, logger: Logger) {
        let knownByVersion = Dictionary(uniqueKeysWithValues: known.map { ($0.version, $0.name) })
        for (version, name) in applied.sorted(by: { $0.key < $1.key }) {
            if let knownName = knownByVersion[version] {
                if knownName != name {
                    logger.warning("recorded migration name differs from the shipped file", metadata: [
                        "schema": "\(schemaLabel)", "version": "\(version)", "recorded": "\(name)", "shipped": "\(knownName)",
                    ])
                }
            } else {
                logger.warning("schema has a migration this binary does not know (newer server?)", metadata: [
                    "schema": "\(schemaLabel)", "version": "\(version)", "migration": "\(name)",
                ])
            }
        }
    }

    static func migrationError(
        _ migration: Migration,
        schemaLabel: String,
        statementNumber: Int?,
        statement: String?,
        error: any Error
    ) -> any Error {
        if let storeError = error as? StoreError { return storeError }
        if isConnectionFailure(error) {
            return StoreError(code: .unavailable, message: "the database connection failed while migrating schema \(schemaLabel)")
        }
        let file = zeroPadded4(migration.version) + "_\(migration.name).sql"
        var message = "migration \(file) failed on schema \(schemaLabel)"
        if let statementNumber, let statement {
            let preview = statement.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            message += " at statement \(statementNumber) (\(preview.prefix(80)))"
        } else {
            message += " while recording it in schema_migrations"
        }
        if let serverMessage = postgresServerMessage(error) {
            message += ": \(serverMessage)"
            if let state = postgresSQLState(error) { message += " [SQLSTATE \(state)]" }
        } else {
            message += ": \(error)"
        }
        return StoreError(code: .migrationFailed, message: message)
    }
}

/// Zero-padded to four digits, like migration file names.
func zeroPadded4(_ value: Int) -> String {
    let digits = "\(value)"
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
