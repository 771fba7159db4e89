import Foundation
public import LLMLabAPI
public import Logging

/// Everything `llmlab-server` needs to start, resolved from flags over environment over
/// config file over defaults (see ``ServerConfiguration/resolve(flags:environment:)``).
public struct ServerConfiguration: Sendable {
    public struct GRPC: Sendable {
        public var host: String = "127.0.0.1"
        public var port: Int = 7443
        /// Production certificate chain and key (PEM). Both or neither; neither means
        /// the development CA under `$LLMLAB_HOME/tls`.
        public var certificateFile: String?
        public var privateKeyFile: String?
        /// When set, clients must present a certificate signed by this CA (mTLS).
        public var clientCAFile: String?
        /// Plaintext gRPC. Only with an explicit flag; logged as a warning.
        public var insecure: Bool = false
        public static let defaults = GRPC()
    }

    /// The HTTP listener: the OpenAI- and Anthropic-compatible proxy, `/healthz`, `/metrics`.
    public struct HTTP: Sendable {
        public var host: String = "127.0.0.1"
        public var port: Int = 8080
        /// TLS on this listener, with the gRPC listener's certificate (production or development).
        public var tls: Bool = false
        /// Provider API roots; tests and private deployments point them elsewhere.
        public var openAIBaseURL: String = "https://api.openai.com/v1"
        public var anthropicBaseURL: String = "https://api.anthropic.com/v1"
        public var geminiBaseURL: String = "https://generativelanguage.googleapis.com/v1beta"
        /// Deadline for an upstream response head, and the longest silence inside a body.
        public var upstreamTimeoutSeconds: Int = 600
        /// Larger request bodies are refused with 413.
        public var maxRequestBytes: Int = 4 * 1024 * 1024
        /// Larger OTLP/HTTP trace exports (`POST /v1/traces`, also after gzip) get 413.
        public var maxTraceBytes: Int = 8 * 1024 * 1024
        public static let defaults = HTTP()
    }

    /// State directory: TLS material, operator token, master key, embedded database.
    public var home: String
    public var grpc: GRPC = .defaults
    public var http: HTTP = .defaults
    /// External PostgreSQL; `nil` runs the embedded cluster under `home/pg`.
    public var databaseURL: String?
    /// Where the master key lives (created 0600 on first run) unless `LLMLAB_MASTER_KEY` is set.
    public var masterKeyFile: String?
    /// The unprivileged user that runs the embedded cluster when the server runs as root.
    public var embeddedPostgresUser: String = "postgres"
    public var logLevel: Logger.Level = .info
    /// The relay email alert channels send through; nil when not configured.
    public var smtp: SMTPConfiguration?
    /// Whether billing connections may name their own endpoints (`settings.base_url`,
    /// `token_url`). Off by default: a tenant admin could otherwise make the server call any
    /// address (server-side request forgery); on for billing proxies and tests.
    public var allowCustomBillingEndpoints: Bool = false

    public init(home: String) {
        self.home = home
    }

    public static let defaultHome = "./.llmlab"

    public var tlsDirectory: String { home + "/tls" }
    public var operatorTokenFile: String { home + "/operator.token" }
    public var resolvedMasterKeyFile: String { masterKeyFile ?? home + "/master.key" }
    public var postgresDirectory: String { home + "/pg" }
}

/// Values given on the command line; `nil` means "not given".
public struct ServerFlags: Sendable {
    public var configFile: String?
    public var home: String?
    public var grpcAddress: String?
    public var httpAddress: String?
    public var openAIBaseURL: String?
    public var anthropicBaseURL: String?
    public var geminiBaseURL: String?
    public var httpTLS: Bool = false
    public var billingAllowCustomEndpoints: Bool = false
    public var upstreamTimeoutSeconds: String?
    public var maxRequestBytes: String?
    public var maxTraceBytes: String?
    public var databaseURL: String?
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var tlsClientCA: String?
    public var masterKeyFile: String?
    public var insecure: Bool = false
    public var logLevel: String?
    public var smtpURL: String?
    public var smtpFrom: String?
    public var smtpStartTLS: String?
    public var smtpCAFile: String?

    public init() {}
}

/// The optional JSON config file (`--config`, or `$LLMLAB_HOME/server.json` when present).
struct ServerConfigFile: Decodable {
    var grpc_address: String?
    var http_address: String?
    var openai_base_url: String?
    var anthropic_base_url: String?
    var gemini_base_url: String?
    var http_tls: Bool?
    var billing_allow_custom_endpoints: Bool?
    var upstream_timeout_seconds: Int?
    var max_request_bytes: Int?
    var max_trace_bytes: Int?
    var database_url: String?
    var tls_certificate: String?
    var tls_key: String?
    var tls_client_ca: String?
    var master_key_file: String?
    var insecure: Bool?
    var log_level: String?
    var embedded_postgres_user: String?
    var smtp_url: String?
    var smtp_from: String?
    var smtp_starttls: String?
    var smtp_ca_file: String?
}

extension ServerConfiguration {
    /// Flags win over environment, environment over the config file, the file over defaults.
    public static func resolve(flags: ServerFlags, environment: [String: String]) throws -> ServerConfiguration {
        let home = flags.home ?? environment["LLMLAB_HOME"] ?? defaultHome
        let file = try loadFile(flags.configFile ?? environment["LLMLAB_CONFIG"], home: home)
        var configuration = ServerConfiguration(home: home)

        if let address = flags.grpcAddress ?? environment["LLMLAB_GRPC_ADDRESS"] ?? file?.grpc_address {
            (configuration.grpc.host, configuration.grpc.port) = try parseAddress(address, field: "grpc address")
        }
        if let address = flags.httpAddress ?? environment["LLMLAB_HTTP_ADDRESS"] ?? file?.http_address {
            (configuration.http.host, configuration.http.port) = try parseAddress(address, field: "http address")
        }
        if let url = try baseURL(flags.openAIBaseURL ?? environment["LLMLAB_OPENAI_BASE_URL"] ?? file?.openai_base_url,
                                 provider: "OpenAI", example: "https://api.openai.com/v1") {
            configuration.http.openAIBaseURL = url
        }
        if let url = try baseURL(flags.anthropicBaseURL ?? environment["LLMLAB_ANTHROPIC_BASE_URL"] ?? file?.anthropic_base_url,
                                 provider: "Anthropic", example: "https://api.anthropic.com/v1") {
            configuration.http.anthropicBaseURL = url
        }
        if let url = try baseURL(flags.geminiBaseURL ?? environment["LLMLAB_GEMINI_BASE_URL"] ?? file?.gemini_base_url,
                                 provider: "Gemini", example: "https://generativelanguage.googleapis.com/v1beta") {
            configuration.http.geminiBaseURL = url
        }
        configuration.http.tls = flags.httpTLS || environment["LLMLAB_HTTP_TLS"] == "1" || (file?.http_tls ?? false)
        configuration.allowCustomBillingEndpoints = flags.billingAllowCustomEndpoints
            || environment["LLMLAB_BILLING_ALLOW_CUSTOM_ENDPOINTS"] == "1" || (file?.billing_allow_custom_endpoints ?? false)
        if let seconds = try positiveInteger(flags.upstreamTimeoutSeconds ?? environment["LLMLAB_UPSTREAM_TIMEOUT"],
                                             file: file?.upstream_timeout_seconds, field: "upstream timeout (seconds)") {
            configuration.http.upstreamTimeoutSeconds = seconds
        }
        if let bytes = try positiveInteger(flags.maxRequestBytes ?? environment["LLMLAB_MAX_REQUEST_BYTES"],
                                           file: file?.max_request_bytes, field: "max request bytes") {
            configuration.http.maxRequestBytes = bytes
        }
        if let bytes = try positiveInteger(flags.maxTraceBytes ?? environment["LLMLAB_MAX_TRACE_BYTES"],
                                           file: file?.max_trace_bytes, field: "max trace bytes") {
            configuration.http.maxTraceBytes = bytes
        }
        configuration.databaseURL = nonEmpty(flags.databaseURL ?? environment["LLMLAB_DATABASE_URL"] ?? file?.database_url)
        configuration.grpc.certificateFile = nonEmpty(flags.tlsCertificate ?? environment["LLMLAB_TLS_CERT"] ?? file?.tls_certificate)
        configuration.grpc.privateKeyFile = nonEmpty(flags.tlsKey ?? environment["LLMLAB_TLS_KEY"] ?? file?.tls_key)
        configuration.grpc.clientCAFile = nonEmpty(flags.tlsClientCA ?? environment["LLMLAB_TLS_CLIENT_CA"] ?? file?.tls_client_ca)
        configuration.masterKeyFile = nonEmpty(flags.masterKeyFile ?? environment["LLMLAB_MASTER_KEY_FILE"] ?? file?.master_key_file)
        configuration.grpc.insecure = flags.insecure || environment["LLMLAB_INSECURE"] == "1" || (file?.insecure ?? false)
        if let user = environment["LLMLAB_PG_USER"] ?? file?.embedded_postgres_user { configuration.embeddedPostgresUser = user }
        if let level = flags.logLevel ?? environment["LLMLAB_LOG_LEVEL"] ?? file?.log_level {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ServerError("log level \"\(level)\" is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = parsed
        }
        if let url = nonEmpty(flags.smtpURL ?? environment["LLMLAB_SMTP_URL"] ?? file?.smtp_url) {
            do {
                configuration.smtp = try SMTPConfiguration.parse(
                    url: url, from: nonEmpty(flags.smtpFrom ?? environment["LLMLAB_SMTP_FROM"] ?? file?.smtp_from),
                    startTLS: nonEmpty(flags.smtpStartTLS ?? environment["LLMLAB_SMTP_STARTTLS"] ?? file?.smtp_starttls),
                    caFile: nonEmpty(flags.smtpCAFile ?? environment["LLMLAB_SMTP_CA_FILE"] ?? file?.smtp_ca_file))
            } catch let error as SMTPConfiguration.Error {
                throw ServerError(error.message)
            }
        }
        if (configuration.grpc.certificateFile == nil) != (configuration.grpc.privateKeyFile == nil) {
            throw ServerError("--tls-cert and --tls-key go together: give both (production certificate) or neither (development CA under \(home)/tls)")
        }
        return configuration
    }

    static func loadFile(_ explicit: String?, home: String) throws -> ServerConfigFile? {
        let path = explicit ?? home + "/server.json"
        guard FileManager.default.fileExists(atPath: path) else {
            if explicit != nil { throw ServerError("config file \(path) does not exist") }
            return nil
        }
        do {
            return try JSONDecoder().decode(ServerConfigFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ServerError("config file \(path) is not valid JSON with the documented keys: \(error)")
        }
    }

    /// `host:port`, `[v6]:port` or `:port` (all interfaces of the default host).
    public static func parseAddress(_ text: String, field: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ServerError("\(field) \"\(text)\" needs host:port, e.g. 127.0.0.1:7443")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ServerError("\(field) \"\(text)\" has no valid port (0-65535)")
        }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// A positive integer from a flag or environment text, else from the file.
    private static func positiveInteger(_ text: String?, file: Int?, field: String) throws -> Int? {
        if let text {
            guard let value = Int(text), value > 0 else { throw ServerError("\(field) \"\(text)\" must be a positive whole number") }
            return value
        }
        if let file {
            guard file > 0 else { throw ServerError("\(field) \(file) must be a positive whole number") }
            return file
        }
        return nil
    }

    /// A provider base URL, checked to be http(s).
    private static func baseURL(_ value: String?, provider: String, example: String) throws -> String? {
        guard let url = nonEmpty(value) else { return nil }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw ServerError("\(provider) base URL \"\(url)\" must start with https:// (or http:// for a local fake), e.g. \(example)")
        }
        return url
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
