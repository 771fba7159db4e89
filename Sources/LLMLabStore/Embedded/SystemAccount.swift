#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The unprivileged OS user the cluster runs as when the server runs as root
/// (PostgreSQL refuses to run as root), and how to run a program as that user.
struct SystemAccount: Sendable, Hashable {
    var name: String
    var uid: UInt32
    var gid: UInt32

    /// Whether this process runs as root, so the cluster must run as another user.
    static var processIsRoot: Bool { geteuid() == 0 }

    static func lookup(_ name: String) -> SystemAccount? {
        guard let entry = getpwnam(name) else { return nil }
        return SystemAccount(name: name, uid: UInt32(entry.pointee.pw_uid), gid: UInt32(entry.pointee.pw_gid))
    }

    /// The command prefix that runs a program as this user: `runuser -u <name> --`, or
    /// `setpriv` where runuser is missing.
    func commandPrefix() throws -> [String] {
        for path in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"] where isExecutable(path) {
            return [path, "-u", self.name, "--"]
        }
        for path in ["/usr/bin/setpriv", "/bin/setpriv"] where isExecutable(path) {
            return [path, "--reuid=\(self.uid)", "--regid=\(self.gid)", "--init-groups", "--"]
        }
        throw StoreError(
            code: .invalidConfiguration,
            message: "running as root, the embedded PostgreSQL must run as user '\(self.name)', but neither runuser nor setpriv (Debian package util-linux) is installed"
        )
    }
}
