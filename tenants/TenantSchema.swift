/// The SQL that defines every tenant schema, carried inside the binary.
///
/// Each `migrations/NNNN_name.sql` is embedded by SwiftPM (`embedInCode`), which names the
/// bytes after the file with its leading digit replaced by `_` (`0001_init.sql` →
/// `PackageResources._001_init_sql`). Generated members cannot be enumerated, so every file
/// is listed below; the store's tests compare this list with the directory.
///
/// The SQL uses unqualified names: the migrator runs it with `search_path` set to the
/// tenant's schema. Grants are not part of it; the provisioner applies them.
public enum TenantSchema {
    /// All tenant migrations, sorted by version.
    public static let migrations: [(version: Int, name: String, sql: String)] = [
        entry("0001_init.sql", PackageResources._001_init_sql),
        entry("0002_routes.sql", PackageResources._002_routes_sql),
        entry("0003_usage.sql", PackageResources._003_usage_sql),
        entry("0004_budgets.sql", PackageResources._004_budgets_sql),
        entry("0005_traces.sql", PackageResources._005_traces_sql),
        entry("0006_usage_rollup.sql", PackageResources._006_usage_rollup_sql),
        entry("0007_alerts.sql", PackageResources._007_alerts_sql),
        entry("0008_alert_slack.sql", PackageResources._008_alert_slack_sql),
        entry("0009_alert_rules.sql", PackageResources._009_alert_rules_sql),
        entry("0010_billing.sql", PackageResources._010_billing_sql),
        entry("0011_usage_users.sql", PackageResources._011_usage_users_sql),
        entry("0012_usage_rollup_daily.sql", PackageResources._012_usage_rollup_daily_sql),
    ].sorted { $0.version < $1.version }

    private static func entry(_ fileName: String, _ bytes: [UInt8]) -> (version: Int, name: String, sql: String) {
        precondition(fileName.hasSuffix(".sql"), "tenant migration \(fileName) must end in .sql")
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
            preconditionFailure("tenant migration \(fileName) is not named NNNN_name.sql")
        }
        let name = String(stem[stem.index(after: underscore)...])
        return (version, name, String(decoding: bytes, as: UTF8.self))
    }
}
