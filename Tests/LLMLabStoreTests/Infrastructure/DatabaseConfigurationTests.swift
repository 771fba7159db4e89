import LLMLabStore
import Testing

@Suite("Database URL parsing")
struct DatabaseConfigurationTests {
    @Test("a full TCP URL")
    func fullURL() throws {
        let configuration = try DatabaseConfiguration.parse(url: "postgres://app:s3cr3t@db.example.com:6543/llmlab?sslmode=require")
        #expect(configuration.host == "db.example.com")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "app")
        #expect(configuration.password == "s3cr3t")
        #expect(configuration.database == "llmlab")
        #expect(configuration.tls == .require)
        #expect(configuration.unixSocketPath == nil)
        #expect(configuration.maxConnections == 20)
        #expect(!configuration.description.contains("s3cr3t"))
    }

    @Test("defaults: port 5432, sslmode prefer, database = user; postgresql:// works")
    func defaults() throws {
        let configuration = try DatabaseConfiguration.parse(url: "postgresql://app@localhost")
        #expect(configuration.port == 5432)
        #expect(configuration.tls == .prefer)
        #expect(configuration.database == "app")
        #expect(configuration.password == nil)
    }

    @Test("sslmode values", arguments: [
        ("disable", DatabaseConfiguration.TLS.disable),
        ("allow", .prefer),
        ("prefer", .prefer),
        ("require", .require),
        ("verify-ca", .verifyCA()),
        ("verify-full", .verifyFull()),
    ])
    func sslModes(mode: String, expected: DatabaseConfiguration.TLS) throws {
        let configuration = try DatabaseConfiguration.parse(url: "postgres://u:p@h/d?sslmode=\(mode)")
        #expect(configuration.tls == expected)
    }

    @Test("verify-full with sslrootcert")
    func rootCertificate() throws {
        let configuration = try DatabaseConfiguration.parse(url: "postgres://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(configuration.tls == .verifyFull(rootCertificatePath: "/etc/ca.pem"))
        #expect(configuration.tls.verification == .full)
        _ = configuration.makeClientConfiguration()  // builds without touching the file
    }

    @Test("unix sockets: ?host=/dir, percent-encoded host, socket file")
    func unixSockets() throws {
        let byQuery = try DatabaseConfiguration.parse(url: "postgres://llmlab@/llmlab?host=/var/run/postgresql")
        #expect(byQuery.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432")
        #expect(byQuery.tls == .disable)
        let encoded = try DatabaseConfiguration.parse(url: "postgresql://llmlab@%2Ftmp%2Fpg:5433/db")
        #expect(encoded.unixSocketPath == "/tmp/pg/.s.PGSQL.5433")
        let file = try DatabaseConfiguration.parse(url: "postgres://u@/d?host=/tmp/x/.s.PGSQL.7000")
        #expect(file.unixSocketPath == "/tmp/x/.s.PGSQL.7000")
    }

    @Test("percent-encoded credentials and IPv6 hosts")
    func encoding() throws {
        let configuration = try DatabaseConfiguration.parse(url: "postgres://us%40er:p%3Aa%2Fs%40s@[::1]:5433/my%20db")
        #expect(configuration.username == "us@er")
        #expect(configuration.password == "p:a/s@s")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 5433)
        #expect(configuration.database == "my db")
    }

    @Test("query parameters override the authority")
    func queryOverrides() throws {
        let configuration = try DatabaseConfiguration.parse(url: "postgres://h/d?user=u&password=pw&port=7000&dbname=other&application_name=x")
        #expect(configuration.username == "u")
        #expect(configuration.password == "pw")
        #expect(configuration.port == 7000)
        #expect(configuration.database == "other")
    }

    @Test("bad URLs name the wrong part and never contain the password", arguments: [
        ("mysql://u:Hunter2Secret@h/d", "scheme"),
        ("u:Hunter2Secret@h/d", "postgres://"),
        ("postgres://u:Hunter2Secret@h:99999/d", "port"),
        ("postgres://u:Hunter2Secret@h:abc/d", "port"),
        ("postgres://u:Hunter2Secret@h/d?sslmode=bogus", "sslmode"),
        ("postgres://u:Hunter2Secret@h/d?sslmod=require", "unknown query parameter"),
        ("postgres://u:Hunter2Secret@h/d?connect_timeout=3", "connect_timeout"),
        ("postgres://:Hunter2Secret@h/d", "user name"),
        ("postgres://u:Hunter2%ZZSecret@h/d", "password has an invalid percent-encoding"),
        ("postgres://u:Hunter2/Secret@h/d", "port"),          // unencoded '/' in the password
        ("postgres://u:Hunter2?Secret@h/d", "port"),          // unencoded '?' in the password
        ("postgres://u:Hunter2Secret@h1,h2/d", "several hosts"),
        ("postgres://u:Hunter2Secret@h/d/e", "database name"),
        ("postgres://u:Hunter2Secret@h/d?sslrootcert=/ca.pem", "sslrootcert"),
        ("", "empty"),
    ])
    func badURLs(url: String, mentions: String) throws {
        let error = #expect(throws: StoreError.self) {
            try DatabaseConfiguration.parse(url: url)
        }
        #expect(error?.code == .invalidConfiguration)
        let description = error.map { String(describing: $0) } ?? ""
        #expect(description.contains(mentions), "\(description)")
        for fragment in ["Hunter2", "Secret", "Hunter2Secret"] {
            #expect(!description.contains(fragment), "\(description)")
        }
    }

    @Test("description masks the password")
    func descriptionMasksPassword() throws {
        let configuration = try DatabaseConfiguration.parse(url: "postgres://app:TopSecretPw@db:5432/llmlab")
        #expect(configuration.description == "postgres://app:***@db:5432/llmlab?sslmode=prefer")
        #expect(!String(reflecting: StoreError(code: .invalidConfiguration, message: "x")).contains("TopSecretPw"))
    }
}
