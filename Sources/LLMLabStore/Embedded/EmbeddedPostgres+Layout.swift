import Foundation

/// Where the cluster's files actually live after checking what the cluster's OS user can
/// reach.
///
/// When the server runs as root, PostgreSQL runs as an unprivileged user that must be
/// able to traverse every parent of the data directory, socket directory and log file.
/// `$LLMLAB_HOME` often sits where that user cannot go (`/root/...`, or a 0700 home), and
/// loosening a parent's permissions (`chmod o+x /root`) is not acceptable. Such paths are
/// relocated, together, to `<relocationDirectory>/pg-<hash of the data directory path>/`
/// (default `/var/lib/llmlab`, root-owned 0755), and a symlink is left at the configured
/// data directory pointing there, so operators find it and later starts reuse it (an
/// existing symlink at the data directory is always followed). Socket paths longer than
/// the 107-byte unix socket limit move to a private `/tmp/llmlab-pg-<hash>` directory.
struct ClusterLayout: Sendable, Hashable {
    var dataDirectory: String
    var socketDirectory: String
    var logFile: String
    /// Set when some path was moved out of the configured location.
    var relocationBase: String?

    var socketFile: String { "\(self.socketDirectory)/.s.PGSQL.\(self.port)" }
    var port: Int

    static let maximumSocketPathLength = 107

    static func resolve(
        _ configuration: EmbeddedPostgres.Configuration,
        account: SystemAccount?,
        runAs prefix: [String]
    ) async throws -> ClusterLayout {
        let configuredData = absolute(configuration.dataDirectory)
        let hash = fnv1a64Hex(configuredData)
        let relocationBase = absolute(configuration.relocationDirectory) + "/pg-" + hash

        var layout = ClusterLayout(
            dataDirectory: configuredData,
            socketDirectory: absolute(configuration.socketDirectory),
            logFile: absolute(configuration.logFile),
            relocationBase: nil,
            port: configuration.port
        )

        // A symlink at the data directory (left by an earlier relocation, or by an operator) wins.
        if FileSystem.isSymbolicLink(configuredData), let destination = FileSystem.symlinkDestination(configuredData) {
            layout.dataDirectory = destination.hasPrefix("/")
                ? destination
                : absolute(parent(configuredData) + "/" + destination)
        }

        if let account {
            // Parents we create ourselves are 0755 so the cluster user can traverse them.
            for path in [layout.dataDirectory, layout.socketDirectory, layout.logFile] {
                try? FileSystem.createDirectories(parent(path), mode: 0o755)
            }
            let dataReachable = try await canTraverse(parent(layout.dataDirectory), account: account, prefix: prefix)
            if !dataReachable {
                if FileSystem.exists(layout.dataDirectory) {
                    throw StoreError(
                        code: .invalidConfiguration,
                        message: "the PostgreSQL data directory \(layout.dataDirectory) exists, but user '\(account.name)' cannot reach it (a parent directory is not searchable); move it somewhere that user can reach and leave a symlink at \(configuredData)"
                    )
                }
                layout.dataDirectory = relocationBase + "/data"
                layout.relocationBase = relocationBase
            }
            if !(try await canTraverse(parent(layout.socketDirectory), account: account, prefix: prefix)) {
                layout.socketDirectory = relocationBase + "/run"
                layout.relocationBase = relocationBase
            }
            if !(try await canTraverse(parent(layout.logFile), account: account, prefix: prefix)) {
                layout.logFile = relocationBase + "/postgres.log"
                layout.relocationBase = relocationBase
            }
            if layout.relocationBase != nil {
                try FileSystem.createDirectories(relocationBase, mode: 0o755)
                try FileSystem.setMode(relocationBase, 0o755)
            }
            if layout.dataDirectory != configuredData, !FileSystem.exists(configuredData) {
                try FileSystem.createSymbolicLink(at: configuredData, to: layout.dataDirectory)
            }
        } else {
            for path in [layout.dataDirectory, layout.socketDirectory, layout.logFile] {
                try FileSystem.createDirectories(parent(path), mode: 0o700)
            }
        }

        if layout.socketFile.utf8.count > maximumSocketPathLength {
            layout.socketDirectory = "/tmp/llmlab-pg-" + hash
        }
        return layout
    }

    /// Creates the data directory, socket directory and log file with private permissions
    /// and, when running as root, gives them to the cluster's user.
    func prepare(account: SystemAccount?) throws {
        try prepareDirectory(self.dataDirectory, account: account, label: "data directory")
        try prepareDirectory(self.socketDirectory, account: account, label: "socket directory")
        try FileSystem.touch(self.logFile, mode: 0o600)
        if let account {
            try FileSystem.chown(self.logFile, to: account)
        }
    }

    private func prepareDirectory(_ path: String, account: SystemAccount?, label: String) throws {
        if FileSystem.isSymbolicLink(path) {
            throw StoreError(code: .invalidConfiguration, message: "the PostgreSQL \(label) \(path) is a symlink; refusing to use it")
        }
        if !FileSystem.exists(path) {
            try FileSystem.createDirectories(path, mode: 0o700)
            if let account { try FileSystem.chown(path, to: account) }
            return
        }
        guard FileSystem.isDirectory(path), let (uid, _) = FileSystem.ownerAndMode(path) else {
            throw StoreError(code: .invalidConfiguration, message: "the PostgreSQL \(label) \(path) is not a directory")
        }
        let expectedOwner = account?.uid ?? UInt32(geteuid())
        if uid != expectedOwner {
            // Only take over a directory that root owns (we made it); never someone else's.
            guard account != nil, uid == 0 else {
                throw StoreError(
                    code: .invalidConfiguration,
                    message: "the PostgreSQL \(label) \(path) belongs to another user (uid \(uid)); remove it or fix its owner"
                )
            }
            try FileSystem.chown(path, to: account!)
        }
        try FileSystem.setMode(path, 0o700)
    }

    /// Asks the OS, as the cluster's user, whether `directory` can be traversed (every
    /// ancestor searchable). Uses `test -x` so ACLs and group membership count as the kernel sees them.
    private static func canTraverse(_ directory: String, account: SystemAccount, prefix: [String]) async throws -> Bool {
        let result = try await Subprocess.run(prefix + ["/usr/bin/env", "test", "-x", directory])
        return result.succeeded
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    static func parent(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let result = String(trimmed[..<slash])
        return result.isEmpty ? "/" : result
    }

    /// FNV-1a, 64 bit: a stable short name for a path (not a security measure).
    static func fnv1a64Hex(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
