extension DatabaseConfiguration {
    /// Reads a libpq-style connection URL (`LLMLAB_DATABASE_URL`):
    ///
    ///     postgres[ql]://user[:password]@host[:port]/database[?param=value&...]
    ///
    /// Supported parameters: `sslmode` (disable, allow, prefer, require, verify-ca, verify-full),
    /// `sslrootcert`, `host` (a path starting with `/` selects a unix socket directory, as in libpq),
    /// `port`, `user`, `password`, `dbname`, `application_name` (accepted, unused).
    /// Over TCP the default `sslmode` is `prefer`, as in libpq.
    ///
    /// Errors (``StoreError/Code/invalidConfiguration``) name the part of the URL that is wrong
    /// but never echo what was written there, so a password can never leak into a log.
    public static func parse(url: String) throws -> DatabaseConfiguration {
        try URLParser.parse(url)
    }
}

/// The parser behind ``DatabaseConfiguration/parse(url:)``. No Foundation `URL`: its handling
/// of empty hosts, socket paths and unencoded characters differs between platforms.
private enum URLParser {
    static let supportedParameters: Set<String> = [
        "sslmode", "sslrootcert", "host", "port", "user", "password", "dbname", "application_name",
    ]
    /// libpq parameters we recognise but do not implement: safe to name in an error.
    static let knownUnsupportedParameters: Set<String> = [
        "hostaddr", "connect_timeout", "client_encoding", "options", "fallback_application_name",
        "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
        "replication", "gssencmode", "sslcert", "sslkey", "sslpassword", "sslcrl", "sslcrldir", "sslsni",
        "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib",
        "service", "target_session_attrs", "load_balance_hosts", "passfile", "channel_binding",
        "sslcompression", "require_auth", "sslnegotiation",
    ]

    static func fail(_ message: String) -> StoreError {
        StoreError(code: .invalidConfiguration, message: "database URL: \(message)")
    }

    static func parse(_ input: String) throws -> DatabaseConfiguration {
        let text = input.trimmingWhitespace()
        guard !text.isEmpty else { throw fail("the URL is empty") }
        guard let schemeEnd = text.range(of: "://") else {
            throw fail("expected a URL of the form postgres://user:password@host:port/database")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw fail("the scheme must be postgres:// or postgresql://")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        if let hash = rest.firstIndex(of: "#") {
            rest = rest[..<hash]
        }
        var query: Substring = ""
        if let questionMark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: questionMark)...]
            rest = rest[..<questionMark]
        }
        let authority: Substring
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
        }

        // user:password@host:port — the last '@' separates, so a stray '@' in a password still parses.
        var username: String?
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try decode(userInfo[..<colon], part: "the user name")
                password = try decode(userInfo[userInfo.index(after: colon)...], part: "the password")
            } else {
                username = try decode(userInfo, part: "the user name")
            }
        }

        var host: String?
        var port: Int?
        if !hostPort.isEmpty {
            guard !hostPort.contains(",") else {
                throw fail("several hosts are not supported; name one host")
            }
            var hostPart = hostPort
            var portPart: Substring?
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else {
                    throw fail("the IPv6 host is missing its closing ']'")
                }
                hostPart = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
                let afterClose = hostPort[hostPort.index(after: close)...]
                if afterClose.hasPrefix(":") {
                    portPart = afterClose.dropFirst()
                } else if !afterClose.isEmpty {
                    throw fail("unexpected text after the IPv6 host; if the password contains '@', ':', '/', '?' or '#', percent-encode it")
                }
            } else if let colon = hostPort.lastIndex(of: ":") {
                hostPart = hostPort[..<colon]
                portPart = hostPort[hostPort.index(after: colon)...]
            }
            let decodedHost = try decode(hostPart, part: "the host")
            if !decodedHost.isEmpty { host = decodedHost }
            if let portPart, !portPart.isEmpty {
                port = try parsePort(portPart)
            }
        }

        var database: String?
        if !path.isEmpty {
            guard !path.contains("/") else {
                throw fail("the path must be a single database name")
            }
            database = try decode(path, part: "the database name")
        }

        var sslmode = "prefer"
        var sslmodeGiven = false
        var rootCertificate: String?
        if !query.isEmpty {
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                let name: String
                let value: String
                if let equals = pair.firstIndex(of: "=") {
                    name = try decode(pair[..<equals], part: "a query parameter name")
                    value = try decode(pair[pair.index(after: equals)...], part: "a query parameter value")
                } else {
                    throw fail("every query parameter needs a value (name=value)")
                }
                guard supportedParameters.contains(name) else {
                    if knownUnsupportedParameters.contains(name) {
                        throw fail("the query parameter '\(name)' is not supported")
                    }
                    throw fail("unknown query parameter (supported: \(supportedParameters.sorted().joined(separator: ", ")); if the password contains '@', ':', '/', '?' or '#', percent-encode it)")
                }
                switch name {
                case "sslmode":
                    sslmode = value
                    sslmodeGiven = true
                case "sslrootcert":
                    guard !value.isEmpty else { throw fail("sslrootcert is empty") }
                    rootCertificate = value
                case "host":
                    guard !value.isEmpty else { throw fail("the host parameter is empty") }
                    host = value
                case "port":
                    port = try parsePort(Substring(value))
                case "user":
                    username = value
                case "password":
                    password = value
                case "dbname":
                    database = value
                default:
                    break  // application_name: accepted for compatibility, not sent.
                }
            }
        }

        guard let username, !username.isEmpty else {
            throw fail("no user name; write postgres://USER[:PASSWORD]@host/database")
        }
        let resolvedPort = port ?? 5432
        let tls: DatabaseConfiguration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer
        case "require": tls = .require
        case "verify-ca": tls = .verifyCA(rootCertificatePath: rootCertificate)
        case "verify-full": tls = .verifyFull(rootCertificatePath: rootCertificate)
        default:
            throw fail("sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full")
        }
        if rootCertificate != nil && tls.verification == .none {
            throw fail("sslrootcert needs sslmode=verify-ca or sslmode=verify-full")
        }

        var configuration = DatabaseConfiguration(
            host: "localhost",
            port: resolvedPort,
            username: username,
            password: password,
            database: database.flatMap { $0.isEmpty ? nil : $0 } ?? username,
            tls: tls
        )
        let resolvedHost = host ?? "/var/run/postgresql"
        if resolvedHost.hasPrefix("/") {
            // libpq: a host that is a path names the socket directory.
            if sslmodeGiven && tls.mode == .require {
                throw fail("sslmode=\(tls.sslmode) cannot be used with a unix socket host")
            }
            configuration.unixSocketPath = socketFilePath(resolvedHost, port: resolvedPort)
            configuration.tls = .disable
        } else {
            configuration.host = resolvedHost
        }
        return configuration
    }

    /// libpq names the socket directory; PostgresNIO wants the socket file. Accept either.
    static func socketFilePath(_ path: String, port: Int) -> String {
        let lastComponent = path.split(separator: "/").last.map(String.init) ?? ""
        if lastComponent.hasPrefix(".s.PGSQL.") {
            return path
        }
        let directory = path.hasSuffix("/") ? String(path.dropLast()) : path
        return "\(directory)/.s.PGSQL.\(port)"
    }

    static func parsePort(_ text: Substring) throws -> Int {
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), (1...65535).contains(value) else {
            throw fail("the port must be a number between 1 and 65535; if the password contains '@', ':', '/', '?' or '#', percent-encode it")
        }
        return value
    }

    /// Percent-decodes one URL component into UTF-8.
    static func decode(_ text: Substring, part: String) throws -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw fail("\(part) has an invalid percent-encoding")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw fail("\(part) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }

    fileprivate func range(of needle: String) -> Range<String.Index>? {
        var index = self.startIndex
        while index < self.endIndex {
            if self[index...].hasPrefix(needle) {
                return index..<self.index(index, offsetBy: needle.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}
