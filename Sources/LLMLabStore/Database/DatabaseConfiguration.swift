/// Where and how the server reaches PostgreSQL: one value built either from
/// `LLMLAB_DATABASE_URL` (``parse(url:)``) or by the embedded cluster
/// (``EmbeddedPostgres/start()``), so the rest of the server never cares which.
///
/// `description` masks the password, so the value can be logged.
public struct DatabaseConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// TLS towards the server, in libpq's `sslmode` vocabulary.
    ///
    /// `.prefer` and `.require` encrypt without verifying the certificate (as libpq does);
    /// ``verifyCA(rootCertificatePath:)`` checks the chain, ``verifyFull(rootCertificatePath:)``
    /// the chain and the host name. Without a root certificate file the system trust roots are used.
    public struct TLS: Sendable, Hashable, CustomStringConvertible {
        /// Whether TLS is attempted and whether it is mandatory.
        public enum Mode: String, Sendable, Hashable {
            case disable, prefer, require
        }

        /// How much of the server certificate is checked.
        public enum Verification: String, Sendable, Hashable {
            /// Encrypt only (libpq `prefer` / `require`).
            case none
            /// Chain of trust, any host name (libpq `verify-ca`).
            case certificateAuthority
            /// Chain of trust and host name (libpq `verify-full`).
            case full
        }

        public var mode: Mode
        public var verification: Verification
        /// PEM file with the trusted roots (`sslrootcert`); `nil` means the system trust roots.
        public var rootCertificatePath: String?

        public init(mode: Mode, verification: Verification = .none, rootCertificatePath: String? = nil) {
            self.mode = mode
            self.verification = verification
            self.rootCertificatePath = rootCertificatePath
        }

        /// Plain TCP (also what unix sockets use).
        public static let disable = TLS(mode: .disable)
        /// TLS when the server offers it, unverified.
        public static let prefer = TLS(mode: .prefer)
        /// TLS or fail, unverified.
        public static let require = TLS(mode: .require)

        /// TLS or fail; the certificate must chain to a trusted root.
        public static func verifyCA(rootCertificatePath: String? = nil) -> TLS {
            TLS(mode: .require, verification: .certificateAuthority, rootCertificatePath: rootCertificatePath)
        }

        /// TLS or fail; the certificate must chain to a trusted root and name the host.
        public static func verifyFull(rootCertificatePath: String? = nil) -> TLS {
            TLS(mode: .require, verification: .full, rootCertificatePath: rootCertificatePath)
        }

        /// The libpq `sslmode` this value corresponds to.
        public var sslmode: String {
            switch (self.mode, self.verification) {
            case (.disable, _): return "disable"
            case (.prefer, .none): return "prefer"
            case (.require, .none): return "require"
            case (_, .certificateAuthority): return "verify-ca"
            case (_, .full): return "verify-full"
            }
        }

        public var description: String { self.sslmode }
    }

    public var host: String
    public var port: Int
    /// Full path of the server's socket file (`<dir>/.s.PGSQL.<port>`); when set, `host`, `port`
    /// and `tls` are not used.
    public var unixSocketPath: String?
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLS
    /// Upper bound of the connection pool.
    public var maxConnections: Int

    public init(
        host: String = "localhost",
        port: Int = 5432,
        unixSocketPath: String? = nil,
        username: String,
        password: String? = nil,
        database: String,
        tls: TLS = .prefer,
        maxConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.unixSocketPath = unixSocketPath
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.maxConnections = maxConnections
    }

    /// A URL-like rendering with the password masked, for logs.
    public var description: String {
        let credentials = self.password == nil ? self.username : "\(self.username):***"
        if let socket = self.unixSocketPath {
            return "postgres://\(credentials)@/\(self.database)?host=\(socket)"
        }
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(credentials)@\(host):\(self.port)/\(self.database)?sslmode=\(self.tls.sslmode)"
    }
}
