/// The migrations of the `control` schema, embedded from `ControlMigrations/NNNN_name.sql`.
///
/// SwiftPM's `embedInCode` turns each file into a `PackageResources` byte array whose name is
/// the file name with the leading digit replaced by `_` (`0001_control.sql` →
/// `_001_control_sql`); it cannot be enumerated, so each file is listed here. A test checks
/// this list against the directory, so a new file that is not listed fails the build's tests.
public enum ControlMigrations {
    public static let all: [Migration] = [
        Migration(fileName: "0001_control.sql", contents: PackageResources._001_control_sql),
        Migration(fileName: "0002_key_limits.sql", contents: PackageResources._002_key_limits_sql),
    ].sorted { $0.version < $1.version }
}
