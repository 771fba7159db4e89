import Foundation
import Hummingbird
import HummingbirdCore
import HTTPTypes
import Logging
import NIOCore
import Synchronization

/// A fake OpenAI on a real loopback socket, speaking the documented Chat Completions
/// shapes: a JSON completion with `usage` (including `prompt_tokens_details.cached_tokens`
/// and `completion_tokens_details.reasoning_tokens`); an SSE stream of `data: {chunk}`
/// events, with `"usage": null` on every chunk and a final `"choices": []` usage chunk when
/// `stream_options.include_usage` is set, then `data: [DONE]`; errors in OpenAI's body
/// shape. What it does depends on the requested model:
///
/// - `rate-limited`: 429 with `retry-after: 7`
/// - `server-error`: 500
/// - `bad-request`: 400
/// - `slow-stream`: one chunk, then silence until the caller goes away (recorded)
/// - `slow-completion` (not streaming): no answer until the caller goes away (recorded)
/// - `broken-stream`: two chunks, then the connection drops mid-body
/// - anything else: success
///
/// Every request is recorded, so tests can check what the proxy sent upstream.
final class FakeOpenAI: Sendable {
    struct Received: Sendable {
        var path: String
        var authorization: String?
        /// Azure OpenAI's `api-key` header.
        var apiKey: String? = nil
        /// The query string (Azure's `api-version`).
        var query: String = ""
        var body: [UInt8]
        var json: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
        }
    }

    private struct State {
        var received: [Received] = []
        var failuresLeft = 0
        var lastChunkSentAt: ContinuousClock.Instant?
        var abandonedCalls = 0
        var usageJSON: String?
        var modelSuffix = ""
        var reportedModel: String?
    }

    private let state = Mutex(State())

    static let completionID = "chatcmpl-fake123"
    static let chunkContents = ["Hel", "lo", " there", "!"]
    /// Pause between stream chunks, so a buffering proxy would show.
    static let chunkInterval: Duration = .milliseconds(120)

    var received: [Received] { state.withLock { $0.received } }
    var lastChunkSentAt: ContinuousClock.Instant? { state.withLock { $0.lastChunkSentAt } }
    /// Slow calls whose caller went away before they ended.
    var abandonedCalls: Int { state.withLock { $0.abandonedCalls } }

    /// The next `count` calls answer 503 with `retry-after-ms` (whatever the model).
    func failNext(_ count: Int) { state.withLock { $0.failuresLeft = count } }
    static let failureRetryAfterMilliseconds = 40

    /// Replaces the `usage` object every later completion reports.
    func setUsage(_ json: String) { state.withLock { $0.usageJSON = json } }
    /// Reports the requested model with this suffix (e.g. a snapshot date), as OpenAI does.
    func setModelSuffix(_ suffix: String) { state.withLock { $0.modelSuffix = suffix } }
    /// Reports this model in every later completion, whatever was requested (as Azure
    /// OpenAI reports the deployment's underlying model, e.g. `gpt-4o-mini-2024-07-18`).
    func setReportedModel(_ model: String) { state.withLock { $0.reportedModel = model } }

    static let usageJSON = """
        {"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,\
        "prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},\
        "completion_tokens_details":{"reasoning_tokens":2,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}
        """

    func buildApplication(onPort: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("v1/chat/completions") { request, context in
            try await self.chatCompletions(request, context: context)
        }
        // Azure OpenAI: the deployment in the path (api-version in the query), or the v1 API.
        router.post("openai/deployments/{deployment}/chat/completions") { request, context in
            try await self.chatCompletions(request, context: context, deployment: context.parameters.get("deployment"))
        }
        router.post("openai/v1/chat/completions") { request, context in
            try await self.chatCompletions(request, context: context)
        }
        router.post("v1/embeddings") { request, context in try await self.embeddings(request) }
        router.post("openai/deployments/{deployment}/embeddings") { request, context in try await self.embeddings(request) }
        var logger = Logger(label: "fake-openai")
        logger.logLevel = .critical
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Collects the body (in `request`, so later `consume…` calls see it collected) and records the call.
    private func record(_ request: inout Request) async throws -> Received {
        let body = Array(try await request.collectBody(upTo: 16 * 1024 * 1024).readableBytesView)
        let received = Received(path: request.uri.path, authorization: request.headers[.authorization],
                                apiKey: request.headers[HTTPField.Name("api-key")!], query: request.uri.query ?? "", body: body)
        state.withLock { $0.received.append(received) }
        return received
    }

    static let embeddingUsage = #"{"prompt_tokens":8,"total_tokens":8}"#

    private func embeddings(_ request: Request) async throws -> Response {
        var request = request
        let received = try await record(&request)
        let model = received.json["model"] as? String ?? "text-embedding-3-small"
        return Self.json(.ok, """
            {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093,0.0157]}],            "model":"\(model)","usage":\(Self.embeddingUsage)}
            """)
    }

    private func chatCompletions(_ request: Request, context: BasicRequestContext, deployment: String? = nil) async throws -> Response {
        var request = request
        let received = try await record(&request)
        let json = received.json
        let model = deployment ?? json["model"] as? String ?? ""
        let (usage, reported, fail) = state.withLock { state in
            let fail = state.failuresLeft > 0
            if fail { state.failuresLeft -= 1 }
            return (state.usageJSON ?? Self.usageJSON, state.reportedModel ?? (model + state.modelSuffix), fail)
        }
        if fail {
            return Self.json(.serviceUnavailable, headers: [HTTPField.Name("retry-after-ms")!: "\(Self.failureRetryAfterMilliseconds)"], """
                {"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}
                """)
        }
        switch model {
        case "rate-limited":
            return Self.json(.tooManyRequests, headers: [HTTPField.Name("retry-after")!: "7", HTTPField.Name("x-ratelimit-remaining-requests")!: "0"], """
                {"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}
                """)
        case "bad-request":
            return Self.json(.badRequest, """
                {"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}
                """)
        case "server-error":
            return Self.json(.internalServerError, """
                {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}
                """)
        default:
            break
        }
        let stream = json["stream"] as? Bool ?? false
        if model == "slow-completion" {
            do {
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await Task.sleep(for: .seconds(30))
                }
            } catch {
                state.withLock { $0.abandonedCalls += 1 }
                throw error
            }
        }
        guard stream else {
            return Self.json(.ok, headers: [HTTPField.Name("x-request-id")!: "req_upstream_1"], """
                {"id":"\(Self.completionID)","object":"chat.completion","created":1741569952,"model":"\(reported)",\
                "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!","refusal":null,"annotations":[]},\
                "logprobs":null,"finish_reason":"stop"}],"usage":\(usage),"service_tier":"default","system_fingerprint":"fp_fake"}
                """)
        }
        let includeUsage = (json["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
        if model == "slow-stream" {
            return slowStream(request: request, model: model)
        }
        let events = Self.streamEvents(model: reported, includeUsage: includeUsage, usage: usage)
        if model == "broken-stream" {
            return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: events[0] + events[1]))
                throw ConnectionDropped()  // Hummingbird closes the connection mid-body
            })
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8"], body: ResponseBody { writer in
            for (index, event) in events.enumerated() {
                if index > 0 { try await Task.sleep(for: Self.chunkInterval) }
                try await writer.write(ByteBuffer(string: event))
            }
            self.state.withLock { $0.lastChunkSentAt = .now }
            try await writer.finish(nil)
        })
    }

    /// One chunk, then nothing until the proxy closes the connection.
    private func slowStream(request: Request, model: String) -> Response {
        let first = Self.chunk(model: model, delta: #"{"role":"assistant","content":"Hel"}"#, finish: nil, usageNull: false)
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8"], body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: first))
            do {
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await Task.sleep(for: .seconds(30))
                }
            } catch {
                self.state.withLock { $0.abandonedCalls += 1 }
                throw error
            }
            try await writer.finish(nil)
        })
    }

    static func chunk(model: String, delta: String, finish: String?, usageNull: Bool) -> String {
        let finishReason = finish.map { "\"\($0)\"" } ?? "null"
        let usage = usageNull ? #","usage":null"# : ""
        return """
            data: {"id":"\(completionID)","object":"chat.completion.chunk","created":1741569952,"model":"\(model)",\
            "system_fingerprint":"fp_fake","choices":[{"index":0,"delta":\(delta),"logprobs":null,"finish_reason":\(finishReason)}]\(usage)}\n\n
            """
    }

    /// The stream OpenAI sends for "Hello there!".
    static func streamEvents(model: String, includeUsage: Bool, usage: String = usageJSON) -> [String] {
        var events: [String] = []
        for (index, content) in chunkContents.enumerated() {
            let role = index == 0 ? #""role":"assistant","# : ""
            events.append(chunk(model: model, delta: "{\(role)\"content\":\"\(content)\"}", finish: nil, usageNull: includeUsage))
        }
        events.append(chunk(model: model, delta: "{}", finish: "stop", usageNull: includeUsage))
        if includeUsage {
            events.append("""
                data: {"id":"\(completionID)","object":"chat.completion.chunk","created":1741569952,"model":"\(model)",\
                "system_fingerprint":"fp_fake","choices":[],"usage":\(usage)}\n\n
                """)
        }
        events.append("data: [DONE]\n\n")
        return events
    }

    static func json(_ status: HTTPResponse.Status, headers: HTTPFields = [:], _ body: String) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

struct ConnectionDropped: Error {}
