public import PostgresNIO

extension DatabaseConfiguration {
    /// The pool configuration ``Database`` hands to `PostgresClient`.
    public func makeClientConfiguration() -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socket = self.unixSocketPath {
            configuration = PostgresClient.Configuration(
                unixSocketPath: socket,
                username: self.username,
                password: self.password,
                database: self.database
            )
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch self.tls.mode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(self.tls.makeNIOConfiguration())
            case .require: tls = .require(self.tls.makeNIOConfiguration())
            }
            configuration = PostgresClient.Configuration(
                host: self.host,
                port: self.port,
                username: self.username,
                password: self.password,
                database: self.database,
                tls: tls
            )
            if self.tls.verification == .full {
                configuration.options.tlsServerName = self.host
            }
        }
        configuration.options.maximumConnections = max(1, self.maxConnections)
        return configuration
    }

    /// A configuration for one stand-alone connection (bootstrap work such as creating a
    /// database), outside any pool.
    public func makeConnectionConfiguration() throws -> PostgresConnection.Configuration {
        if let socket = self.unixSocketPath {
            return PostgresConnection.Configuration(
                unixSocketPath: socket,
                username: self.username,
                password: self.password,
                database: self.database
            )
        }
        let tls: PostgresConnection.Configuration.TLS
        switch self.tls.mode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: self.tls.makeNIOConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: self.tls.makeNIOConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: tls
        )
        if self.tls.verification == .full {
            configuration.options.tlsServerName = self.host
        }
        return configuration
    }

    /// Opens one connection, runs `body`, closes it. For bootstrap and administration
    /// (creating roles or databases), never for request work — that goes through ``Database``.
    public func withStandaloneConnection<R: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> R
    ) async throws -> R {
        let connection = try await PostgresConnection.connect(
            configuration: try self.makeConnectionConfiguration(),
            id: 0,
            logger: logger
        )
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

extension DatabaseConfiguration.TLS {
    /// The swift-nio-ssl client configuration matching the `sslmode`. The root file is read
    /// lazily, when the first connection is made, so configuration never fails here.
    func makeNIOConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch self.verification {
        case .none: configuration.certificateVerification = .none
        case .certificateAuthority: configuration.certificateVerification = .noHostnameVerification
        case .full: configuration.certificateVerification = .fullVerification
        }
        if let root = self.rootCertificatePath {
            configuration.trustRoots = .file(root)
        }
        return configuration
    }
}
