import HTTPTypes
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import Testing

/// Feeds `bytes` to `translator` in pieces of `size` and returns everything it writes.
func feedMessagesStream(_ translator: inout some StreamTranslator, _ bytes: [UInt8], pieceSize size: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    for start in stride(from: 0, to: bytes.count, by: size) {
        out += try translator.consume(bytes[start..<min(start + size, bytes.count)])
    }
    out += translator.finish()
    return out
}

@Suite("Anthropic Messages pass-through")
struct AnthropicMessagesPassthroughTests {
    /// A stream as Anthropic's streaming documentation shows it (text, then a tool call),
    /// with a prompt-cache read and 5m/1h cache writes on message_start.
    static let events: [String] = [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":300,\"cache_read_input_tokens\":1000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":100,\"ephemeral_1h_input_tokens\":200},\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"! Let me check.\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"location\\\": \\\"Paris\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ]

    /// input 25 uncached, 1000 cache read, 100 + 200 cache writes (5m / 1h), 89 output (cumulative, from message_delta).
    static let expectedUsage = TokenUsage(uncachedInput: 25, cacheRead: 1000, cacheWrite5m: 100, cacheWrite1h: 200, output: 89)

    @Test("every byte passes through, in order, however the stream is cut", arguments: [1, 7, Int.max])
    func passesThrough(pieceSize: Int) throws {
        let input = Array(Self.events.joined().utf8)
        var relay = AnthropicMessagesStreamRelay()
        let out = try feedMessagesStream(&relay, input, pieceSize: min(pieceSize, input.count))
        #expect(out == input)
        #expect(relay.usage == Self.expectedUsage)
        #expect(relay.usageProblem == nil)
        #expect(relay.responseModel == "claude-sonnet-4-5-20250929")
        #expect(relay.isComplete)
        #expect(relay.streamError == nil)
        #expect(relay.forwardedEvents == Self.events.count)
    }

    @Test("not complete until message_stop; usage so far is message_start's")
    func completeOnlyAtStop() throws {
        var relay = AnthropicMessagesStreamRelay()
        _ = try relay.consume(Array(Self.events.dropLast(2).joined().utf8))
        #expect(!relay.isComplete)
        // Before message_delta: output is message_start's 1.
        #expect(relay.usage == TokenUsage(uncachedInput: 25, cacheRead: 1000, cacheWrite5m: 100, cacheWrite1h: 200, output: 1))
        _ = try relay.consume(Array(Self.events[Self.events.count - 2].utf8))
        #expect(!relay.isComplete)
        _ = try relay.consume(Array(Self.events.last!.utf8))
        #expect(relay.isComplete)
    }

    @Test("input and cache counts repeated on message_delta (newer API versions) replace message_start's")
    func deltaRepeatsInput() throws {
        let stream = [
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-opus-4-1\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,\"output_tokens\":1}}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":30,\"cache_read_input_tokens\":12,\"cache_creation_input_tokens\":8,\"output_tokens\":15}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ].joined()
        var relay = AnthropicMessagesStreamRelay()
        let out = try feedMessagesStream(&relay, Array(stream.utf8), pieceSize: 7)
        #expect(out == Array(stream.utf8))
        // No TTL breakdown: the 8 writes are 5-minute writes.
        #expect(relay.usage == TokenUsage(uncachedInput: 30, cacheRead: 12, cacheWrite5m: 8, output: 15))
        #expect(relay.responseModel == "claude-opus-4-1")
    }

    @Test("an error event passes through and is classified", arguments: [
        ("overloaded_error", UpstreamErrorClass.serverError),
        ("rate_limit_error", .rateLimited),
        ("api_error", .serverError),
    ])
    func errorEvent(type: String, expected: UpstreamErrorClass) throws {
        let stream = Self.events[0] + Self.events[1]
            + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"\(type)\",\"message\":\"Overloaded\"}}\n\n"
        var relay = AnthropicMessagesStreamRelay()
        let out = try feedMessagesStream(&relay, Array(stream.utf8), pieceSize: 7)
        #expect(out == Array(stream.utf8))
        #expect(relay.streamError == expected)
        #expect(!relay.isComplete)
    }

    @Test("a malformed count makes usage unreadable, with the reason")
    func malformedUsage() throws {
        let stream = Self.events[0]
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":\"many\"}}\n\n"
        var relay = AnthropicMessagesStreamRelay()
        _ = try relay.consume(Array(stream.utf8))
        #expect(relay.usage == nil)
        #expect(relay.usageProblem == "message_delta.usage.output_tokens is not an integer")
    }

    @Test("a last event without its blank line is still forwarded and read")
    func unterminatedLastEvent() throws {
        let stream = Self.events[0] + "event: message_stop\ndata: {\"type\":\"message_stop\"}"
        var relay = AnthropicMessagesStreamRelay()
        let out = try feedMessagesStream(&relay, Array(stream.utf8), pieceSize: 5)
        #expect(out == Array(stream.utf8))
        #expect(relay.isComplete)
    }

    // MARK: Non-streaming

    static let message = #"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":30,"cache_read_input_tokens":40,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":20},"output_tokens":7}}"#

    @Test("a response passes through byte for byte; usage (with 5m/1h writes) and model are read")
    func response() throws {
        let result = try AnthropicMessagesPassthrough().translateResponse(Array(Self.message.utf8), requestedModel: "alias")
        #expect(result.body == Array(Self.message.utf8))
        #expect(result.usage == TokenUsage(uncachedInput: 12, cacheRead: 40, cacheWrite5m: 10, cacheWrite1h: 20, output: 7))
        #expect(result.usageProblem == nil)
        #expect(result.responseModel == "claude-sonnet-4-5-20250929")
    }

    @Test("writes that do not add up, or a missing output count, are a usage problem, not an error")
    func usageProblems() throws {
        let inconsistent = Self.message.replacingOccurrences(of: #""ephemeral_1h_input_tokens":20"#, with: #""ephemeral_1h_input_tokens":21"#)
        let first = try AnthropicMessagesPassthrough().translateResponse(Array(inconsistent.utf8), requestedModel: "m")
        #expect(first.usage == nil)
        #expect(first.usageProblem?.contains("cache_creation") == true)
        #expect(first.body == Array(inconsistent.utf8))

        let noOutput = #"{"type":"message","usage":{"input_tokens":3}}"#
        let second = try AnthropicMessagesPassthrough().translateResponse(Array(noOutput.utf8), requestedModel: "m")
        #expect(second.usage == nil)
        #expect(second.usageProblem != nil)
    }

    @Test("a body that is not a JSON object is a 502")
    func unreadable() {
        for body in ["<html>", "[]"] {
            #expect(throws: GatewayError.self) { try AnthropicMessagesPassthrough().translateResponse(Array(body.utf8), requestedModel: "m") }
            do {
                _ = try AnthropicMessagesPassthrough().translateResponse(Array(body.utf8), requestedModel: "m")
            } catch {
                #expect(error.status.code == 502)
                #expect(error.code == "upstream_invalid_response")
            }
        }
    }

    @Test("requests: the fast path splices the model; the value path sets model and stream")
    func request() throws {
        let passthrough = AnthropicMessagesPassthrough()
        #expect(passthrough.passesRequestThrough)
        let text = #"{"model":"alias","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}"#
        let body = try MessagesRequestBody.parse(Array(text.utf8))
        #expect(String(decoding: passthrough.upstreamBody(body, model: "claude-x"), as: UTF8.self)
            == #"{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}"#)
        let encoded = try passthrough.translateRequest(try body.value(), model: "claude-x", stream: true)
        #expect(String(decoding: encoded, as: UTF8.self)
            == #"{"max_tokens":10,"messages":[{"content":"Hi","role":"user"}],"model":"claude-x","stream":true}"#)
    }

    @Test("errors pass through unchanged")
    func errors() {
        let body = Array(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#.utf8)
        #expect(AnthropicMessagesPassthrough().translateError(status: 529, body: body) == body)
    }
}
