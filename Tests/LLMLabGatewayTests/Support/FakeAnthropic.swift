import Foundation
import Hummingbird
import HummingbirdCore
import HTTPTypes
import Logging
import NIOCore
import Synchronization

/// A fake Anthropic on a real loopback socket, serving `POST /v1/messages` in the
/// documented Messages API shapes ("Messages", "Streaming Messages", "Errors"):
///
/// - a JSON `message` with `usage` {input_tokens, output_tokens, cache_creation_input_tokens,
///   cache_read_input_tokens, cache_creation: {ephemeral_5m_input_tokens,
///   ephemeral_1h_input_tokens}};
/// - with `"stream": true`, SSE events `message_start` (usage with the input counts and
///   `output_tokens: 1`), `content_block_start`, `ping`, `content_block_delta`
///   (`text_delta`, or `input_json_delta` for tool_use), `content_block_stop`,
///   `message_delta` (stop_reason and the cumulative `usage.output_tokens`), `message_stop`;
/// - a `tool_use` answer (calling the request's first tool with
///   `{"location":"San Francisco, CA"}`, stop_reason `tool_use`) whenever the request has a
///   non-empty `tools` array, or the model is `tool-call` (then the tool is `get_weather`);
/// - errors as `{"type":"error","error":{"type","message"},"request_id"}`.
///
/// What it does depends on the requested model:
///
/// - `rate-limited`: 429 `rate_limit_error` with `retry-after: 7`
/// - `overloaded`: 529 `overloaded_error`
/// - `server-error`: 500 `api_error`
/// - `bad-request`: 400 `invalid_request_error`
/// - `mid-stream-error` (streaming): the stream starts, then `event: error` with
///   `overloaded_error` and the body ends (no `message_stop`); not streaming: success
/// - `slow-stream`: `message_start`, then silence until the caller goes away (recorded)
/// - `slow-completion` (not streaming): no answer until the caller goes away (recorded)
/// - `broken-stream`: `message_start` and `content_block_start`, then the connection drops
/// - anything else: success ("Hello there!")
///
/// Every request is recorded (path, `x-api-key`, `anthropic-version`, `anthropic-beta`, body), so tests can
/// check what the proxy sent upstream.
final class FakeAnthropic: Sendable {
    struct Received: Sendable {
        var path: String
        var apiKey: String?
        var anthropicVersion: String?
        /// The `anthropic-beta` header, when sent.
        var anthropicBeta: String? = nil
        var body: [UInt8]
        var json: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
        }
    }

    private struct State {
        var received: [Received] = []
        var lastEventSentAt: ContinuousClock.Instant?
        var abandonedCalls = 0
        var usageJSON: String?
    }

    private let state = Mutex(State())

    static let messageID = "msg_fake01XFDUDYJgAACzvnptvVoYEL"
    static let toolUseID = "toolu_fake01A09q90qw90lq917835"
    static let textPieces = ["Hel", "lo", " there", "!"]
    static let toolInputPieces = [#"{"location":"#, #" "San Francisco, CA"}"#]
    /// Pause between stream events, so a buffering proxy would show.
    static let eventInterval: Duration = .milliseconds(120)

    var received: [Received] { state.withLock { $0.received } }
    var lastEventSentAt: ContinuousClock.Instant? { state.withLock { $0.lastEventSentAt } }
    /// Slow calls whose caller went away before they ended.
    var abandonedCalls: Int { state.withLock { $0.abandonedCalls } }

    /// Replaces the `usage` object every later message reports (non-streaming); a stream
    /// reports its input counts in `message_start` and `output_tokens` in `message_delta`.
    func setUsage(_ json: String) { state.withLock { $0.usageJSON = json } }

    /// 12 uncached + 4 read + 6 written (2 for 5 minutes, 4 for an hour) in, 5 out.
    static let usageJSON = """
        {"input_tokens":12,"cache_creation_input_tokens":6,"cache_read_input_tokens":4,\
        "cache_creation":{"ephemeral_5m_input_tokens":2,"ephemeral_1h_input_tokens":4},\
        "output_tokens":5,"service_tier":"standard"}
        """
    /// `message_start`'s usage in a stream: the input counts, one output token so far.
    static let streamStartUsageJSON = """
        {"input_tokens":12,"cache_creation_input_tokens":6,"cache_read_input_tokens":4,\
        "cache_creation":{"ephemeral_5m_input_tokens":2,"ephemeral_1h_input_tokens":4},\
        "output_tokens":1,"service_tier":"standard"}
        """
    static let finalOutputTokens = 5

    func buildApplication(onPort: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("v1/messages") { request, context in
            try await self.messages(request, context: context)
        }
        var logger = Logger(label: "fake-anthropic")
        logger.logLevel = .critical
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    private func messages(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = Array(try await request.collectBody(upTo: 32 * 1024 * 1024).readableBytesView)
        let received = Received(
            path: request.uri.path, apiKey: request.headers[HTTPField.Name("x-api-key")!],
            anthropicVersion: request.headers[HTTPField.Name("anthropic-version")!],
            anthropicBeta: request.headers[HTTPField.Name("anthropic-beta")!], body: body)
        state.withLock { $0.received.append(received) }
        let json = received.json
        let model = json["model"] as? String ?? ""
        let usage = state.withLock { $0.usageJSON ?? Self.usageJSON }
        switch model {
        case "rate-limited":
            return Self.error(.tooManyRequests, "rate_limit_error",
                              "Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
                              headers: [HTTPField.Name("retry-after")!: "7", HTTPField.Name("anthropic-ratelimit-requests-remaining")!: "0"])
        case "overloaded":
            return Self.error(HTTPResponse.Status(code: 529, reasonPhrase: "Overloaded"), "overloaded_error", "Overloaded")
        case "server-error":
            return Self.error(.internalServerError, "api_error", "Internal server error")
        case "bad-request":
            return Self.error(.badRequest, "invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"user\" roles in a row")
        default:
            break
        }
        let tools = json["tools"] as? [[String: Any]] ?? []
        let toolName: String? = (tools.first?["name"] as? String) ?? (model == "tool-call" ? "get_weather" : nil)
        let stream = json["stream"] as? Bool ?? false
        if model == "slow-completion", !stream {
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
            let content: String
            let stopReason: String
            if let toolName {
                content = #"[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"\#(Self.toolUseID)","name":"\#(toolName)","input":{"location":"San Francisco, CA"}}]"#
                stopReason = "tool_use"
            } else {
                content = #"[{"type":"text","text":"Hello there!"}]"#
                stopReason = "end_turn"
            }
            return Self.json(.ok, headers: [HTTPField.Name("request-id")!: "req_fake_upstream_1"], """
                {"id":"\(Self.messageID)","type":"message","role":"assistant","model":"\(model)","content":\(content),\
                "stop_reason":"\(stopReason)","stop_sequence":null,"usage":\(usage)}
                """)
        }
        let events = Self.streamEvents(model: model, toolName: toolName)
        switch model {
        case "slow-stream":
            return slowStream(request: request, first: events[0])
        case "broken-stream":
            return Self.sse { writer in
                try await writer.write(ByteBuffer(string: events[0] + events[1]))
                throw ConnectionDropped()  // Hummingbird closes the connection mid-body
            }
        case "mid-stream-error":
            return Self.sse { writer in
                for event in events.prefix(4) {
                    try await writer.write(ByteBuffer(string: event))
                }
                try await Task.sleep(for: Self.eventInterval)
                try await writer.write(ByteBuffer(string: Self.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)))
                try await writer.finish(nil)
            }
        default:
            return Self.sse { writer in
                for (index, event) in events.enumerated() {
                    if index > 0 { try await Task.sleep(for: Self.eventInterval) }
                    try await writer.write(ByteBuffer(string: event))
                }
                self.state.withLock { $0.lastEventSentAt = .now }
                try await writer.finish(nil)
            }
        }
    }

    /// `message_start`, then nothing until the proxy closes the connection.
    private func slowStream(request: Request, first: String) -> Response {
        Self.sse { writer in
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
        }
    }

    static func event(_ name: String, _ data: String) -> String {
        "event: \(name)\ndata: \(data)\n\n"
    }

    /// The stream Anthropic sends for "Hello there!", or for a text block and a tool call.
    static func streamEvents(model: String, toolName: String?) -> [String] {
        var events = [
            event("message_start", """
                {"type":"message_start","message":{"id":"\(messageID)","type":"message","role":"assistant","model":"\(model)",\
                "content":[],"stop_reason":null,"stop_sequence":null,"usage":\(streamStartUsageJSON)}}
                """),
            event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            event("ping", #"{"type": "ping"}"#),
        ]
        let pieces = toolName == nil ? textPieces : ["Let me check."]
        for piece in pieces {
            events.append(event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(piece)"}}"#))
        }
        events.append(event("content_block_stop", #"{"type":"content_block_stop","index":0}"#))
        if let toolName {
            events.append(event("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"\#(toolUseID)","name":"\#(toolName)","input":{}}}"#))
            events.append(event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#))
            for piece in toolInputPieces {
                let escaped = piece.replacingOccurrences(of: "\"", with: "\\\"")
                events.append(event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\#(escaped)"}}"#))
            }
            events.append(event("content_block_stop", #"{"type":"content_block_stop","index":1}"#))
        }
        events.append(event("message_delta", """
            {"type":"message_delta","delta":{"stop_reason":"\(toolName == nil ? "end_turn" : "tool_use")","stop_sequence":null},\
            "usage":{"output_tokens":\(finalOutputTokens)}}
            """))
        events.append(event("message_stop", #"{"type":"message_stop"}"#))
        return events
    }

    static func sse(_ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
                 body: ResponseBody { writer in try await write(&writer) })
    }

    static func error(_ status: HTTPResponse.Status, _ type: String, _ message: String, headers: HTTPFields = [:]) -> Response {
        json(status, headers: headers, """
            {"type":"error","error":{"type":"\(type)","message":\(String(reflecting: message))},"request_id":"req_fake_011CSHoEeqs5C35K2UUqR7Fy"}
            """)
    }

    static func json(_ status: HTTPResponse.Status, headers: HTTPFields = [:], _ body: String) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
