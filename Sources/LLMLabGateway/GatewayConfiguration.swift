/// How the proxy listens and reaches providers. The server fills it from flags,
/// environment and config file (`LLMLabServer.ServerConfiguration`); tests point the
/// provider base URLs at fake upstreams.
public struct GatewayConfiguration: Sendable {
    public static let defaultMaxRequestBodyBytes = 4 * 1024 * 1024

    /// Listen address; port 0 picks a free port (tests).
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// TLS on the listener: PEM certificate chain and private key files; `nil` = plaintext.
    public var tls: TLSFiles?
    /// Larger request bodies are refused with 413 before anything else happens.
    public var maxRequestBodyBytes: Int = defaultMaxRequestBodyBytes
    /// OTLP/HTTP export bodies (`POST /v1/traces`) larger than this are refused with 413
    /// (after gzip, the decompressed size is bounded by the tracing module).
    public var maxTraceBodyBytes: Int = 8 * 1024 * 1024
    /// Upstream response bodies (non-streaming) larger than this are refused with 502.
    public var maxUpstreamResponseBytes: Int = 64 * 1024 * 1024
    /// Deadline for an upstream response head (time to first byte for streams).
    public var upstreamTimeout: Duration = .seconds(600)
    /// Longest silence tolerated inside an upstream response body.
    public var upstreamReadTimeout: Duration = .seconds(600)
    public var upstreamConnectTimeout: Duration = .seconds(10)
    /// Where each provider's API lives.
    public var providerBaseURLs = ProviderBaseURLs()
    /// `/healthz` answers 503 when the database does not answer within this.
    public var healthCheckTimeout: Duration = .seconds(2)
    /// How long a route deployment is skipped after ``deploymentFailureThreshold``
    /// consecutive retryable failures (a 429's `retry-after` wins when given).
    public var deploymentCooldown: Duration = .seconds(30)
    public var deploymentFailureThreshold: Int = 3
    /// How often deployment health is written to `deployment_health`.
    public var deploymentHealthFlushInterval: Duration = .seconds(1)
    /// Idle keep-alive connections are closed after this.
    public var idleTimeout: Duration = .seconds(90)
    /// Where usage events wait (JSON lines) while PostgreSQL cannot take them.
    public var usageSpoolDirectory: String = "./.llmlab/spool"
    /// Budget enforcement: estimates, refresh interval, reservation lifetime.
    public var budget = BudgetConfiguration()
    /// Retries of one deployment before falling back to the next.
    public var retry = RetryPolicy()

    public init() {}
}

/// Base URLs of the provider APIs, without a trailing slash.
public struct ProviderBaseURLs: Sendable {
    public static let openAIDefault = "https://api.openai.com/v1"
    public static let anthropicDefault = "https://api.anthropic.com/v1"
    public static let geminiDefault = "https://generativelanguage.googleapis.com/v1beta"

    /// `LLMLAB_OPENAI_BASE_URL`; `/chat/completions` and `/embeddings` are appended.
    public var openAI: String = openAIDefault
    /// `LLMLAB_ANTHROPIC_BASE_URL`; `/messages` is appended.
    public var anthropic: String = anthropicDefault
    /// `LLMLAB_GEMINI_BASE_URL`; `/models/{model}:generateContent` and friends are appended.
    public var gemini: String = geminiDefault
    // Azure OpenAI has no global base URL: each key carries its resource endpoint.

    public init() {}

    /// `url` without trailing slashes.
    static func normalized(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

/// How the proxy enforces budgets (see ``RequestAdmission``).
public struct BudgetConfiguration: Sendable {
    /// How often a budget's month-to-date spend (and a project's limit) is re-read from
    /// the rollups.
    public var refreshInterval: Duration = .seconds(5)
    /// Output tokens reserved when the request sets neither `max_completion_tokens` nor `max_tokens`.
    public var defaultMaxOutputTokens: Int = 4096
    /// Prompt tokens are estimated as ⌈body bytes / this⌉ (conservative for JSON chat bodies).
    public var promptBytesPerToken: Int = 3
    /// Reserved for a model the proxy cannot price (its usage is stored unpriced), as exact
    /// decimal USD text; "0" by default. Invalid text counts as zero.
    public var unknownModelReserveUSD: String = "0"
    /// A reservation that was never settled (e.g. a response body that was never sent)
    /// stops counting after this.
    public var reservationLifetime: Duration = .seconds(1800)

    public init() {}
}

/// How the proxy retries a deployment that failed with a retryable error (408, 429, 5xx,
/// Anthropic's 529, timeouts, connection errors) before trying the next one. Everything
/// stays within the request's overall deadline (``GatewayConfiguration/upstreamTimeout``).
public struct RetryPolicy: Sendable {
    /// Further attempts on the same deployment (0 = fall back at once).
    public var maxRetries: Int = 1
    /// Backoff before the first retry; doubles each retry, with jitter (half fixed, half random).
    public var initialBackoff: Duration = .milliseconds(250)
    public var maxBackoff: Duration = .seconds(8)
    /// A provider's `retry-after` (or `retry-after-ms`) is honoured up to this; a longer
    /// wait skips the same-deployment retry and falls back (or answers) at once.
    public var maxRetryAfter: Duration = .seconds(20)

    public init() {}

    /// The wait before retry number `retry` (0-based), or `nil` when the provider asked
    /// for longer than ``maxRetryAfter``.
    func delay(retry: Int, retryAfter: Double?, random: Double = Double.random(in: 0...1)) -> Duration? {
        if let retryAfter {
            let asked = Duration.milliseconds(Int64((max(0, retryAfter) * 1000).rounded(.up)))
            return asked <= maxRetryAfter ? asked : nil
        }
        var base = initialBackoff
        for _ in 0..<min(retry, 30) { base = min(maxBackoff, base * 2) }
        base = min(maxBackoff, base)
        return base / 2 + (base / 2) * random
    }
}

/// A certificate chain and its private key, as PEM files.
public struct TLSFiles: Sendable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}
