import ArgumentParser
import Foundation
import LLMLabServer
import Logging

/// Options every subcommand shares; each documents its environment variable.
struct CommonOptions: ParsableArguments {
    @Option(help: "JSON config file (default: $LLMLAB_HOME/server.json when present). Env: LLMLAB_CONFIG.")
    var config: String?

    @Option(help: "State directory: TLS material, operator token, master key, embedded database. Env: LLMLAB_HOME. Default: ./.llmlab")
    var home: String?

    @Option(help: "PostgreSQL URL (postgres://user:pass@host:5432/db?sslmode=require). Unset: embedded cluster under $LLMLAB_HOME/pg. Env: LLMLAB_DATABASE_URL.")
    var databaseURL: String?

    @Option(help: "Master key file (created 0600 on first run). Env: LLMLAB_MASTER_KEY_FILE, or LLMLAB_MASTER_KEY with the key itself (base64). Default: $LLMLAB_HOME/master.key")
    var masterKeyFile: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. Env: LLMLAB_LOG_LEVEL. Default: info")
    var logLevel: String?

    var flags: ServerFlags {
        var flags = ServerFlags()
        flags.configFile = config
        flags.home = home
        flags.databaseURL = databaseURL
        flags.masterKeyFile = masterKeyFile
        flags.logLevel = logLevel
        return flags
    }
}

@main
struct LLMLabServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmlab-server",
        abstract: "The LLMLab control plane: gRPC control API over TLS, the OpenAI-compatible HTTP proxy, embedded or external PostgreSQL.",
        discussion: """
            With no subcommand the server starts ('serve'). Every setting can come from a flag, an \
            environment variable or the JSON config file, in that order of precedence:

              --home, LLMLAB_HOME: state directory (./.llmlab)
              --grpc-address, LLMLAB_GRPC_ADDRESS: listen address (127.0.0.1:7443)
              --http-address, LLMLAB_HTTP_ADDRESS: proxy, /healthz, /metrics (127.0.0.1:8080)
              --http-tls, LLMLAB_HTTP_TLS=1: TLS on the HTTP listener (gRPC's certificate)
              --billing-allow-custom-endpoints, LLMLAB_BILLING_ALLOW_CUSTOM_ENDPOINTS=1: billing
                connections may set base_url/token_url (off: the server calls only the providers)
              --openai-base-url, LLMLAB_OPENAI_BASE_URL: OpenAI API root (https://api.openai.com/v1)
              --anthropic-base-url, LLMLAB_ANTHROPIC_BASE_URL: (https://api.anthropic.com/v1)
              --gemini-base-url, LLMLAB_GEMINI_BASE_URL: (https://generativelanguage.googleapis.com/v1beta)
              --upstream-timeout, LLMLAB_UPSTREAM_TIMEOUT: seconds to first byte / of silence (600)
              --max-request-bytes, LLMLAB_MAX_REQUEST_BYTES: proxy request body limit (4194304)
              --max-trace-bytes, LLMLAB_MAX_TRACE_BYTES: OTLP/HTTP export limit (8388608)
              --database-url, LLMLAB_DATABASE_URL: external PostgreSQL (embedded)
              --tls-cert, --tls-key, LLMLAB_TLS_CERT, LLMLAB_TLS_KEY: certificate
              --tls-client-ca, LLMLAB_TLS_CLIENT_CA: require client certificates
              --master-key-file, LLMLAB_MASTER_KEY_FILE (or LLMLAB_MASTER_KEY)
              --insecure, LLMLAB_INSECURE=1: plaintext gRPC, logged as a warning
              --log-level, LLMLAB_LOG_LEVEL: trace ... critical (info)
              --config, LLMLAB_CONFIG: JSON file ($LLMLAB_HOME/server.json)

            'llmlab-server serve --help' describes each option in full.
            """,
        subcommands: [Serve.self, RotateMasterKey.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the server (the default command).")

    @OptionGroup var common: CommonOptions

    @Option(help: "gRPC listen address host:port. Env: LLMLAB_GRPC_ADDRESS. Default: 127.0.0.1:7443")
    var grpcAddress: String?

    @Option(help: "HTTP listen address host:port for the OpenAI/Anthropic-compatible proxy, /healthz and /metrics (plaintext unless --http-tls). Env: LLMLAB_HTTP_ADDRESS. Default: 127.0.0.1:8080")
    var httpAddress: String?

    @Flag(name: .customLong("http-tls"), help: "Serve the HTTP listener over TLS with the gRPC certificate (--tls-cert/--tls-key, else the development CA's). Env: LLMLAB_HTTP_TLS=1.")
    var httpTLS = false

    @Flag(name: .customLong("billing-allow-custom-endpoints"), help: "Let billing connections name their own base_url/token_url (for a billing proxy; off by default so tenant admins cannot make the server call arbitrary addresses). Env: LLMLAB_BILLING_ALLOW_CUSTOM_ENDPOINTS=1.")
    var billingAllowCustomEndpoints = false

    @Option(name: .customLong("openai-base-url"), help: "OpenAI API root the proxy calls. Env: LLMLAB_OPENAI_BASE_URL. Default: https://api.openai.com/v1")
    var openAIBaseURL: String?

    @Option(name: .customLong("anthropic-base-url"), help: "Anthropic API root the proxy calls. Env: LLMLAB_ANTHROPIC_BASE_URL. Default: https://api.anthropic.com/v1")
    var anthropicBaseURL: String?

    @Option(name: .customLong("gemini-base-url"), help: "Gemini API root the proxy calls. Env: LLMLAB_GEMINI_BASE_URL. Default: https://generativelanguage.googleapis.com/v1beta")
    var geminiBaseURL: String?

    @Option(help: "Seconds the proxy waits for a provider's first byte, and for each further byte of a body. Env: LLMLAB_UPSTREAM_TIMEOUT. Default: 600")
    var upstreamTimeout: String?

    @Option(help: "Largest proxy request body in bytes; larger ones get 413. Env: LLMLAB_MAX_REQUEST_BYTES. Default: 4194304 (4 MiB)")
    var maxRequestBytes: String?

    @Option(help: "Largest OTLP/HTTP trace export (POST /v1/traces) in bytes, also after gzip; larger ones get 413. Env: LLMLAB_MAX_TRACE_BYTES. Default: 8388608 (8 MiB)")
    var maxTraceBytes: String?

    @Option(help: "Production TLS certificate chain (PEM); with --tls-key. Env: LLMLAB_TLS_CERT. Default: a development CA and certificate under $LLMLAB_HOME/tls.")
    var tlsCert: String?

    @Option(help: "Private key for --tls-cert (PEM). Env: LLMLAB_TLS_KEY.")
    var tlsKey: String?

    @Option(help: "Require client certificates signed by this CA (mTLS). Env: LLMLAB_TLS_CLIENT_CA.")
    var tlsClientCA: String?

    @Flag(help: "Serve gRPC without TLS (logged as a warning). Env: LLMLAB_INSECURE=1.")
    var insecure = false

    @Option(name: .customLong("smtp-url"), help: "SMTP relay for email alert channels: smtp://[user:pass@]host[:port] (STARTTLS) or smtps://… (implicit TLS). Env: LLMLAB_SMTP_URL (prefer it for the password).")
    var smtpURL: String?

    @Option(name: .customLong("smtp-from"), help: "Sender address of alert emails. Env: LLMLAB_SMTP_FROM.")
    var smtpFrom: String?

    @Option(name: .customLong("smtp-starttls"), help: "required, opportunistic or off. Env: LLMLAB_SMTP_STARTTLS. Default: required")
    var smtpStartTLS: String?

    @Option(name: .customLong("smtp-ca-file"), help: "PEM CA certificates to trust for the SMTP relay instead of the system roots. Env: LLMLAB_SMTP_CA_FILE.")
    var smtpCAFile: String?

    func run() async throws {
        var flags = common.flags
        flags.smtpURL = smtpURL
        flags.smtpFrom = smtpFrom
        flags.smtpStartTLS = smtpStartTLS
        flags.smtpCAFile = smtpCAFile
        flags.grpcAddress = grpcAddress
        flags.httpAddress = httpAddress
        flags.openAIBaseURL = openAIBaseURL
        flags.anthropicBaseURL = anthropicBaseURL
        flags.geminiBaseURL = geminiBaseURL
        flags.httpTLS = httpTLS
        flags.billingAllowCustomEndpoints = billingAllowCustomEndpoints
        flags.upstreamTimeoutSeconds = upstreamTimeout
        flags.maxRequestBytes = maxRequestBytes
        flags.maxTraceBytes = maxTraceBytes
        flags.tlsCertificate = tlsCert
        flags.tlsKey = tlsKey
        flags.tlsClientCA = tlsClientCA
        flags.insecure = insecure
        let environment = ProcessInfo.processInfo.environment
        let configuration = try ServerConfiguration.resolve(flags: flags, environment: environment)
        let logger = bootstrapLogging(level: configuration.logLevel)
        do {
            try await LLMLabApplication.run(configuration: configuration, environment: environment, logger: logger)
        } catch {
            logger.critical("llmlab-server could not run: \(error)")
            throw ExitCode(1)
        }
    }
}

struct RotateMasterKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-master-key",
        abstract: "Generate a new master key and re-wrap every tenant's data key with it. Stop the server first.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try ServerConfiguration.resolve(flags: common.flags, environment: environment)
        let logger = bootstrapLogging(level: configuration.logLevel)
        do {
            let result = try await MasterKeyRotation.run(configuration: configuration, environment: environment, logger: logger)
            print("re-wrapped \(result.tenants) tenant data key(s); master key \(result.oldFingerprint) → \(result.newFingerprint)")
        } catch {
            logger.critical("rotation failed: \(error)")
            throw ExitCode(1)
        }
    }
}

func bootstrapLogging(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StandardErrorLogHandler(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "llmlab")
    logger.logLevel = level
    return logger
}
