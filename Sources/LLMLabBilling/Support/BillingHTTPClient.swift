public import AsyncHTTPClient
import Foundation
import NIOCore
public import NIOHTTP1

/// The one way connectors talk to billing APIs: bounded retries of 429 and 5xx answers
/// that honour the provider's retry hints, a bounded response size, and errors that never
/// carry the credential.
///
/// Billing APIs are rate limited hard (Azure Cost Management allows a few queries a minute
/// per scope) and answer 429 with how long to wait; waiting that long is cheaper than
/// failing a sync that already fetched several pages.
public struct BillingHTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// Per request (connect + whole response).
        public var timeout: Duration = .seconds(60)
        /// Attempts per request, the first included.
        public var maxAttempts = 5
        /// The most a single request may spend waiting between attempts; a hint beyond it
        /// fails the request at once rather than blocking a sync for minutes.
        public var maxTotalRetryDelay: Duration = .seconds(120)
        /// Backoff without a hint: this, doubled per attempt.
        public var initialBackoff: Duration = .seconds(1)
        /// Responses larger than this are refused.
        public var maxResponseBytes = 64 << 20
        /// The most one request may take, attempts and waits included (a refused connection
        /// is retried by the client until its deadline, so this bounds that too).
        public var maxTotalTime: Duration = .seconds(300)
        /// For background syncs: patient with slow or rate-limited billing APIs.
        public static let defaults = Configuration()
        /// For a sync a caller waits on (the SyncConnection RPC): a request gives up within
        /// 40 seconds, so the caller hears why instead of timing out.
        public static let interactive: Configuration = {
            var configuration = Configuration()
            configuration.timeout = .seconds(20)
            configuration.maxAttempts = 3
            configuration.maxTotalRetryDelay = .seconds(10)
            configuration.maxTotalTime = .seconds(40)
            return configuration
        }()
        public init() {}
    }

    /// A 2xx answer, its body read in full.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
    }

    public let configuration: Configuration
    let client: HTTPClient
    /// Sleeps between attempts; tests observe the waits.
    let sleep: @Sendable (Duration) async throws -> Void

    /// One client for every billing call, alive for the whole process like `HTTPClient.shared`,
    /// but never following redirects: a redirect would carry the admin key to another origin.
    public static let processClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.redirectConfiguration = .disallow
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(client: HTTPClient = BillingHTTPClient.processClient, configuration: Configuration = .defaults,
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.client = client
        self.configuration = configuration
        self.sleep = sleep
    }

    /// Sends the request, retrying 429/5xx and transport failures, and returns the first
    /// 2xx response. `secrets` are redacted from any error text; `what` names the call in
    /// errors ("OpenAI costs").
    public func send(_ method: HTTPMethod, _ url: String, headers: HTTPHeaders, body: [UInt8]? = nil,
                     secrets: [String], what: String) async throws -> Response {
        var waited: Duration = .zero
        var attempt = 0
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.maxTotalTime
        while true {
            attempt += 1
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw BillingError(.transport, "\(what): \(Self.host(url)) did not answer within \(configuration.maxTotalTime) (\(attempt - 1) attempt(s))")
            }
            let attemptTimeout = min(configuration.timeout, remaining)
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers = headers
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let outcome: Response
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(Self.nanoseconds(attemptTimeout)))
                let buffer = try await response.body.collect(upTo: configuration.maxResponseBytes)
                outcome = Response(status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView))
            } catch is NIOTooManyBytesError {
                throw BillingError(.invalidResponse, "\(what): the response from \(Self.host(url)) is larger than \(configuration.maxResponseBytes >> 20) MiB; sync a shorter range")
            } catch {
                if Task.isCancelled { throw CancellationError() }
                let delay = backoff(attempt: attempt)
                guard attempt < configuration.maxAttempts, waited + delay <= configuration.maxTotalRetryDelay,
                      clock.now + delay < deadline
                else {
                    throw BillingError(.transport, "\(what): no response from \(Self.host(url)) after \(attempt) attempt(s): "
                        + BillingError.redacted(String(describing: error), secrets: secrets))
                }
                waited += delay
                try await sleep(delay)
                continue
            }
            if (200..<300).contains(outcome.status) { return outcome }
            let retryable = outcome.status == 429 || outcome.status >= 500
            if retryable, attempt < configuration.maxAttempts {
                let delay = Self.retryHint(outcome.headers) ?? backoff(attempt: attempt)
                if waited + delay <= configuration.maxTotalRetryDelay, clock.now + delay < deadline {
                    waited += delay
                    try await sleep(delay)
                    continue
                }
            }
            throw Self.failure(outcome, attempts: attempt, what: what, url: url, secrets: secrets)
        }
    }

    func backoff(attempt: Int) -> Duration {
        configuration.initialBackoff * (1 << min(attempt - 1, 10))
    }

    /// How long the provider asked us to wait: the largest of `Retry-After` (seconds or an
    /// HTTP date), `retry-after-ms` and Azure Cost Management's
    /// `x-ms-ratelimit-microsoft.costmanagement-*-retry-after` (seconds).
    static func retryHint(_ headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        var hint: Duration?
        func consider(_ value: Duration) { hint = max(hint ?? .zero, value) }
        for (name, value) in headers {
            let lower = name.lowercased()
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if lower == "retry-after" {
                if let seconds = Int(trimmed), seconds >= 0 {
                    consider(.seconds(seconds))
                } else if let date = Self.httpDate(trimmed) {
                    consider(.milliseconds(max(0, Int((date.timeIntervalSince(now) * 1000).rounded(.up)))))
                }
            } else if lower == "retry-after-ms", let ms = Int(trimmed), ms >= 0 {
                consider(.milliseconds(ms))
            } else if lower.hasPrefix("x-ms-ratelimit-microsoft.costmanagement-"), lower.hasSuffix("-retry-after"),
                      let seconds = Int(trimmed), seconds >= 0 {
                consider(.seconds(seconds))
            }
        }
        return hint
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    static func failure(_ response: Response, attempts: Int, what: String, url: String, secrets: [String]) -> BillingError {
        let detail = BillingError.redacted(Self.errorDetail(response.body), secrets: secrets)
        let suffix = detail.isEmpty ? "" : ": \(detail)"
        switch response.status {
        case 401, 403:
            return BillingError(.unauthorized, "\(what): \(Self.host(url)) refused the credential (HTTP \(response.status)); check that it is an admin key with billing access\(suffix)")
        case 429:
            return BillingError(.rateLimited, "\(what): still rate limited by \(Self.host(url)) after \(attempts) attempt(s); the next sync retries\(suffix)")
        default:
            return BillingError(.httpStatus, "\(what): \(Self.host(url)) answered HTTP \(response.status)\(suffix)")
        }
    }

    /// The provider's own error message when the body is a JSON error, else nothing: raw
    /// bodies are not echoed, so a misdirected base URL cannot read arbitrary pages back.
    static func errorDetail(_ body: [UInt8]) -> String {
        guard let json = try? BillingJSON.parse(body) else { return "" }
        return json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? json.string("message")
            ?? json.string("error_description") ?? ""
    }

    static func host(_ url: String) -> String {
        URLComponents(string: url)?.host ?? "the provider"
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
