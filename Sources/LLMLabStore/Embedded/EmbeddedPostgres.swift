import Foundation
public import Logging
import PostgresNIO

/// A private PostgreSQL cluster the server starts and stops itself, so a single binary
/// runs with no database to set up. Used when `LLMLAB_DATABASE_URL` is not set.
///
/// - First start runs `initdb` (UTF8, trust authentication over the unix socket only, no
///   TCP listener: `listen_addresses = ''`); later starts reuse the data directory.
/// - The socket lives in a private 0700 directory; only the cluster's OS user and root can
///   connect.
/// - As root (PostgreSQL refuses to run as root) initdb / pg_ctl / postgres run as
///   ``Configuration/systemUser`` via `runuser -u` (or `setpriv`), and the directories are
///   given to that user. Paths that user cannot reach are relocated; see `ClusterLayout`.
/// - The server connects as the application role `llmlab` (LOGIN CREATEROLE NOINHERIT,
///   not a superuser), which owns the database `llmlab`.
/// - ``start()`` is idempotent: a running cluster is reused; a stale `postmaster.pid` left
///   by a crash (its process gone or no longer PostgreSQL) is removed.
public struct EmbeddedPostgres: Sendable {
    /// Where the cluster lives and how it runs.
    public struct Configuration: Sendable, Hashable {
        public var dataDirectory: String
        /// The private directory holding the unix socket.
        public var socketDirectory: String
        /// The OS user the cluster runs as when this process is root (ignored otherwise).
        public var systemUser: String
        /// The server log (`pg_ctl -l`).
        public var logFile: String
        /// The port number in the socket name (`.s.PGSQL.<port>`); no TCP port is opened.
        public var port: Int = 5432
        /// If set, the only directory searched for initdb / pg_ctl (like `LLMLAB_PG_BIN`).
        public var binaryDirectory: String? = nil
        /// Where paths the cluster user cannot reach are moved when running as root.
        public var relocationDirectory: String = "/var/lib/llmlab"
        /// The role the server logs in as, and the database it owns.
        public var applicationRole: String = "llmlab"
        public var applicationDatabase: String = "llmlab"
        /// `false` trades crash safety for speed (no fsync): for tests and throw-away clusters only.
        public var durable: Bool = true
        /// Extra `postgresql.conf` settings (name → value as written in the file, e.g. "'1GB'").
        public var settings: [String: String] = [:]
        /// Starts a watchdog that stops the cluster when this process exits, however it exits
        /// (crash and SIGKILL included): it waits for EOF on a pipe only this process holds.
        public var stopsWhenProcessExits: Bool = false
        /// With ``stopsWhenProcessExits``: also delete the data directory, socket directory
        /// and log file (and their parents, if left empty). For throw-away clusters.
        public var deletesWhenProcessExits: Bool = false
        /// How long pg_ctl waits for start and stop.
        public var timeoutSeconds: Int = 60

        public init(dataDirectory: String, socketDirectory: String, systemUser: String = "postgres", logFile: String) {
            self.dataDirectory = dataDirectory
            self.socketDirectory = socketDirectory
            self.systemUser = systemUser
            self.logFile = logFile
        }

        /// The layout under `$LLMLAB_HOME/pg`: `data/`, `run/` (socket), `postgres.log`.
        public static func defaults(home: String) -> Configuration {
            let base = (home.hasSuffix("/") ? String(home.dropLast()) : home) + "/pg"
            return Configuration(
                dataDirectory: base + "/data",
                socketDirectory: base + "/run",
                systemUser: "postgres",
                logFile: base + "/postgres.log"
            )
        }
    }

    /// The cluster's bootstrap superuser (created by initdb; trust over the socket only).
    public static let superuserName = "postgres"

    public let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Initializes the cluster if needed, starts it unless already running, makes sure the
    /// application role and database exist, and returns how to connect as that role.
    public func start() async throws -> DatabaseConfiguration {
        let context = try await self.makeContext()
        let layout = context.layout
        try layout.prepare(account: context.account)
        if layout.relocationBase != nil {
            logger.notice("embedded PostgreSQL files relocated: the cluster user cannot reach the configured paths", metadata: [
                "data_directory": "\(layout.dataDirectory)", "socket_directory": "\(layout.socketDirectory)",
                "log_file": "\(layout.logFile)", "user": "\(context.account?.name ?? "")",
            ])
        }

        if self.configuration.stopsWhenProcessExits {
            // Installed before initdb / pg_ctl, so a failure or hang from here on still cleans up.
            try ProcessExitWatchdog.install(
                for: layout.dataDirectory,
                stopCommand: context.prefix + [
                    context.binaries.pgCtl, "stop", "-D", layout.dataDirectory, "-m", "fast", "-w", "-s",
                    "-t", "\(self.configuration.timeoutSeconds)",
                ],
                deleting: self.configuration.deletesWhenProcessExits
                    ? [layout.dataDirectory, layout.socketDirectory, layout.logFile] + (layout.relocationBase.map { [$0] } ?? [])
                    : []
            )
        }

        if !FileSystem.exists(layout.dataDirectory + "/PG_VERSION") {
            try await self.initializeCluster(context)
        } else if let clusterMajor = Self.clusterMajorVersion(layout.dataDirectory),
                  let binaryMajor = await context.binaries.majorVersion(runAs: context.prefix),
                  clusterMajor != binaryMajor {
            throw StoreError(
                code: .invalidConfiguration,
                message: "the embedded cluster in \(layout.dataDirectory) was created by PostgreSQL \(clusterMajor), but the binaries in \(context.binaries.directory) are PostgreSQL \(binaryMajor): install postgresql-\(clusterMajor) or upgrade the cluster with pg_upgrade"
            )
        }
        try self.writeSettings(context)

        switch self.runningState(layout) {
        case .running:
            logger.debug("embedded PostgreSQL already running", metadata: ["data_directory": "\(layout.dataDirectory)"])
        case .runningElsewhere:
            logger.notice("embedded PostgreSQL runs with another socket directory or port; restarting it")
            try await self.pgCtlStop(context, mode: "fast")
            try await self.pgCtlStart(context)
        case .stopped:
            try await self.pgCtlStart(context)
        }

        try await self.bootstrapApplicationRole(layout)
        return DatabaseConfiguration(
            unixSocketPath: layout.socketFile,
            username: self.configuration.applicationRole,
            password: nil,
            database: self.configuration.applicationDatabase,
            tls: .disable
        )
    }

    /// Stops the cluster (`pg_ctl stop -m fast`) and waits for it. A stopped cluster is fine.
    public func stop() async throws {
        let context = try await self.makeContext()
        guard self.runningState(context.layout) != .stopped else { return }
        try await self.pgCtlStop(context, mode: "fast")
    }

    /// How the cluster's superuser connects (same socket as `configuration`, the `postgres`
    /// database). For administration and tests; the server itself never uses it.
    public func superuserConfiguration(sharingSocketWith configuration: DatabaseConfiguration) -> DatabaseConfiguration {
        var superuser = configuration
        superuser.username = Self.superuserName
        superuser.password = nil
        superuser.database = "postgres"
        return superuser
    }

    // MARK: - Steps

    struct Context: Sendable {
        var account: SystemAccount?
        var prefix: [String]
        var binaries: PostgresBinaries
        var layout: ClusterLayout
    }

    func makeContext() async throws -> Context {
        try Self.validateName(self.configuration.applicationRole, what: "application role")
        try Self.validateName(self.configuration.applicationDatabase, what: "application database")
        var account: SystemAccount?
        var prefix: [String] = []
        if SystemAccount.processIsRoot {
            guard let found = SystemAccount.lookup(self.configuration.systemUser) else {
                throw StoreError(
                    code: .invalidConfiguration,
                    message: "running as root, the embedded PostgreSQL must run as an unprivileged user, but user '\(self.configuration.systemUser)' does not exist: install the Debian package 'postgresql' (it creates 'postgres'), create the user, or set LLMLAB_DATABASE_URL"
                )
            }
            guard found.uid != 0 else {
                throw StoreError(code: .invalidConfiguration, message: "the embedded PostgreSQL user '\(found.name)' is root; PostgreSQL refuses to run as root")
            }
            account = found
            prefix = try found.commandPrefix()
        }
        let preferredMajor = Self.clusterMajorVersion(ClusterLayout.absolute(self.configuration.dataDirectory))
        let binaries = try PostgresBinaries.locate(
            explicitDirectory: self.configuration.binaryDirectory,
            preferredMajor: preferredMajor
        )
        let layout = try await ClusterLayout.resolve(self.configuration, account: account, runAs: prefix)
        return Context(account: account, prefix: prefix, binaries: binaries, layout: layout)
    }

    func initializeCluster(_ context: Context) async throws {
        let layout = context.layout
        logger.notice("initializing embedded PostgreSQL cluster", metadata: ["data_directory": "\(layout.dataDirectory)"])
        var attempts: [String] = []
        for locale in ["C.UTF-8", "C"] {
            var command = context.prefix + [
                context.binaries.initdb, "-D", layout.dataDirectory, "-U", Self.superuserName,
                "--encoding=UTF8", "--locale=\(locale)", "--auth-local=trust", "--auth-host=reject",
            ]
            if !self.configuration.durable { command.append("--no-sync") }
            let result = try await Subprocess.run(command)
            if result.succeeded { return }
            attempts.append(result.tail)
            if !result.output.contains("locale") { break }
        }
        throw StoreError(
            code: .unavailable,
            message: "initdb failed for \(layout.dataDirectory): \(attempts.last ?? "")"
        )
    }

    /// Writes `llmlab.conf` (rewritten on every start) and includes it from postgresql.conf.
    func writeSettings(_ context: Context) throws {
        let layout = context.layout
        var settings: [(String, String)] = [
            ("listen_addresses", "''"),
            ("port", "\(layout.port)"),
            ("unix_socket_directories", Self.quoteSetting(layout.socketDirectory)),
            ("unix_socket_permissions", "0700"),
        ]
        if !self.configuration.durable {
            settings += [("fsync", "off"), ("synchronous_commit", "off"), ("full_page_writes", "off")]
        }
        for (name, value) in self.configuration.settings.sorted(by: { $0.key < $1.key }) {
            settings.append((name, value))
        }
        var text = "# Written by llmlab at every start of the embedded cluster; do not edit.\n"
        text += "# Extra settings belong in the server configuration (EmbeddedPostgres.Configuration.settings).\n"
        for (name, value) in settings {
            text += "\(name) = \(value)\n"
        }
        let settingsPath = layout.dataDirectory + "/llmlab.conf"
        do {
            try text.write(toFile: settingsPath, atomically: true, encoding: .utf8)
            if let account = context.account { try FileSystem.chown(settingsPath, to: account) }
            try FileSystem.setMode(settingsPath, 0o600)
            let mainPath = layout.dataDirectory + "/postgresql.conf"
            let main = try String(contentsOfFile: mainPath, encoding: .utf8)
            let include = "include_if_exists = 'llmlab.conf'"
            if !main.contains(include) {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: mainPath))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data("\n# llmlab: embedded-cluster settings\n\(include)\n".utf8))
                try handle.close()
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .unavailable, message: "cannot write the embedded cluster settings in \(layout.dataDirectory): \(error.localizedDescription)")
        }
    }

    enum RunningState: Equatable { case stopped, running, runningElsewhere }

    /// Reads `postmaster.pid`; removes it (and the socket lock) when its process is gone or
    /// is not PostgreSQL any more (a crash, or a container restart that reused the PID).
    func runningState(_ layout: ClusterLayout) -> RunningState {
        let pidFile = layout.dataDirectory + "/postmaster.pid"
        guard let contents = FileSystem.readSmallFile(pidFile) else { return .stopped }
        let lines = contents.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let pid = lines.first.flatMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) else {
            return .stopped  // being written by a starting postmaster, or garbage; pg_ctl decides
        }
        guard FileSystem.isPostgresProcess(pid) else {
            logger.warning("removing stale postmaster.pid left by a crashed cluster", metadata: ["pid": "\(pid)"])
            FileSystem.remove(pidFile)
            let socketLock = layout.socketFile + ".lock"
            if let lock = FileSystem.readSmallFile(socketLock),
               let lockPID = lock.split(separator: "\n").first.flatMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }),
               !FileSystem.isPostgresProcess(lockPID) {
                FileSystem.remove(socketLock)
                FileSystem.remove(layout.socketFile)
            }
            return .stopped
        }
        let port = lines.count > 3 ? Int(lines[3].trimmingCharacters(in: .whitespaces)) : nil
        let socketDirectory = lines.count > 4 ? lines[4].trimmingCharacters(in: .whitespaces) : nil
        if port == layout.port && socketDirectory == layout.socketDirectory {
            return .running
        }
        return .runningElsewhere
    }

    func pgCtlStart(_ context: Context) async throws {
        let layout = context.layout
        let result = try await Subprocess.run(context.prefix + [
            context.binaries.pgCtl, "start", "-D", layout.dataDirectory, "-l", layout.logFile,
            "-w", "-s", "-t", "\(self.configuration.timeoutSeconds)",
        ])
        guard result.succeeded else {
            throw StoreError(
                code: .unavailable,
                message: "the embedded PostgreSQL did not start (pg_ctl: \(result.tail)); server log \(layout.logFile): \(Self.logTail(layout.logFile))"
            )
        }
        logger.info("embedded PostgreSQL started", metadata: [
            "data_directory": "\(layout.dataDirectory)", "socket": "\(layout.socketFile)",
        ])
    }

    func pgCtlStop(_ context: Context, mode: String) async throws {
        let layout = context.layout
        let result = try await Subprocess.run(context.prefix + [
            context.binaries.pgCtl, "stop", "-D", layout.dataDirectory, "-m", mode,
            "-w", "-s", "-t", "\(self.configuration.timeoutSeconds)",
        ])
        guard result.succeeded else {
            if self.runningState(layout) == .stopped { return }
            throw StoreError(code: .unavailable, message: "the embedded PostgreSQL did not stop: \(result.tail)")
        }
        logger.info("embedded PostgreSQL stopped", metadata: ["data_directory": "\(layout.dataDirectory)"])
    }

    /// Creates (or corrects) the application role and database, as the bootstrap superuser.
    func bootstrapApplicationRole(_ layout: ClusterLayout) async throws {
        let role = self.configuration.applicationRole
        let database = self.configuration.applicationDatabase
        let superuser = DatabaseConfiguration(
            unixSocketPath: layout.socketFile,
            username: Self.superuserName,
            password: nil,
            database: "postgres",
            tls: .disable
        )
        let logger = self.logger
        do {
            try await superuser.withStandaloneConnection(logger: logger) { connection in
                let roleExists = try await connection.query(
                    "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = \(role)", logger: logger
                ).collect().count > 0
                if roleExists {
                    try await connection.query(
                        "ALTER ROLE \(unescaped: "\"\(role)\"") LOGIN CREATEROLE NOINHERIT NOSUPERUSER NOCREATEDB", logger: logger
                    )
                } else {
                    try await connection.query(
                        "CREATE ROLE \(unescaped: "\"\(role)\"") LOGIN CREATEROLE NOINHERIT", logger: logger
                    )
                }
                let databaseExists = try await connection.query(
                    "SELECT 1 FROM pg_catalog.pg_database WHERE datname = \(database)", logger: logger
                ).collect().count > 0
                if !databaseExists {
                    try await connection.query(
                        "CREATE DATABASE \(unescaped: "\"\(database)\"") OWNER \(unescaped: "\"\(role)\"") ENCODING 'UTF8'",
                        logger: logger
                    )
                    try await connection.query(
                        "REVOKE ALL ON DATABASE \(unescaped: "\"\(database)\"") FROM PUBLIC", logger: logger
                    )
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            var message = "could not create the application role '\(role)' in the embedded PostgreSQL"
            if let serverMessage = postgresServerMessage(error) { message += ": \(serverMessage)" }
            else { message += ": \(String(describing: error))" }
            throw StoreError(code: .unavailable, message: message)
        }
    }

    // MARK: - Helpers

    static func clusterMajorVersion(_ dataDirectory: String) -> Int? {
        guard let text = FileSystem.readSmallFile(dataDirectory + "/PG_VERSION") else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix { $0.isNumber })
    }

    static func quoteSetting(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func logTail(_ path: String) -> String {
        guard let text = FileSystem.readSmallFile(path) else { return "(unreadable)" }
        return text.split(whereSeparator: \.isNewline).suffix(10).joined(separator: "\n")
    }

    static func validateName(_ name: String, what: String) throws {
        let valid = !name.isEmpty && name.utf8.count < 64 && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        } && !(name.first?.isNumber ?? true)
        guard valid else {
            throw StoreError(code: .invalidConfiguration, message: "the \(what) name must be lowercase letters, digits and '_' (at most 63), starting with a letter")
        }
    }
}
