/// One numbered schema change, as shipped in the binary: `NNNN_name.sql` becomes
/// `version` NNNN and `name`. Applied once per schema; the schema's `schema_migrations`
/// table records it.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Builds a migration from its file name (`0001_init.sql`) and bytes.
    init(fileName: String, contents: [UInt8]) {
        guard let parsed = Self.parseFileName(fileName) else {
            preconditionFailure("migration file name \(fileName) is not NNNN_name.sql")
        }
        self.init(version: parsed.version, name: parsed.name, sql: String(decoding: contents, as: UTF8.self))
    }

    /// `NNNN_name.sql` → (NNNN, name); `nil` for anything else.
    static func parseFileName(_ fileName: String) -> (version: Int, name: String)? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(digits), version > 0,
              !name.isEmpty
        else { return nil }
        return (version, String(name))
    }

    /// Checks a migration list is usable: versions positive, unique and ascending.
    static func validate(_ migrations: [Migration], label: String) throws {
        var previous = 0
        for migration in migrations {
            guard migration.version > previous else {
                throw StoreError(
                    code: .migrationFailed,
                    message: "\(label) migrations are not in strictly ascending version order at \(migration.version)_\(migration.name)"
                )
            }
            previous = migration.version
        }
    }
}
