import HTTPTypes
@testable import LLMLabGateway
import Testing

@Suite("SSE relay")
struct StreamRelayTests {
    static let events = FakeOpenAI.streamEvents(model: "gpt-4o-mini", includeUsage: true)

    /// Feeds `text` to a relay in pieces of `size` bytes and returns what it forwards.
    func relay(_ text: String, pieceSize size: Int, strip: Bool) throws -> (String, ChatStreamRelay) {
        var relay = ChatStreamRelay(stripUsageChunk: strip)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: size) {
            out += try relay.consume(bytes[start..<min(start + size, bytes.count)])
        }
        out += relay.finish()
        return (String(decoding: out, as: UTF8.self), relay)
    }

    @Test("events split anywhere come out whole and in order; the usage chunk is read and stripped", arguments: [1, 2, 7, 64, 100_000])
    func strips(pieceSize: Int) throws {
        let (out, relay) = try relay(Self.events.joined(), pieceSize: pieceSize, strip: true)
        #expect(out == Self.events.filter { !$0.contains(#""choices":[]"#) }.joined())
        #expect(relay.usage == ChatCompletionUsage(promptTokens: 12, completionTokens: 5, cachedTokens: 4, reasoningTokens: 2))
        #expect(relay.sawDone)
    }

    @Test("when the client asked for usage, everything passes through byte for byte")
    func keeps() throws {
        let (out, relay) = try relay(Self.events.joined(), pieceSize: 5, strip: false)
        #expect(out == Self.events.joined())
        #expect(relay.usage?.cachedTokens == 4)
    }

    @Test("CRLF framing, comments, multi-line data and a missing final blank line are handled")
    func framing() throws {
        let text = ": keep-alive\r\n\r\ndata: {\"choices\":[],\r\ndata: \"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\r\n\r\ndata: [DONE]"
        let (out, relay) = try relay(text, pieceSize: 3, strip: true)
        #expect(out == ": keep-alive\r\n\r\ndata: [DONE]")
        #expect(relay.usage?.promptTokens == 3)
        #expect(relay.sawDone)
    }

    @Test("an event that never ends is refused past the limit")
    func runaway() {
        var framer = SSEEventFramer(maximumEventBytes: 1024)
        #expect(throws: SSEEventFramer.EventTooLarge.self) {
            try framer.append(Array(repeating: UInt8(ascii: "a"), count: 2048))
        }
    }
}

@Suite("Metrics and errors")
struct MetricsRenderingTests {
    @Test("Prometheus text: counters, cumulative buckets, escaped labels")
    func rendering() {
        let metrics = GatewayMetrics()
        metrics.recordRequest(route: "/v1/chat/completions", provider: "openai", model: "we\"ird\nmodel", status: 200, duration: .milliseconds(30))
        metrics.recordRequest(route: "/v1/chat/completions", provider: "openai", model: "gpt-4o", status: 200, duration: .seconds(2))
        metrics.recordUpstreamError(provider: "openai", .timeout)
        let text = metrics.render()
        #expect(text.contains(#"model="we\"ird\nmodel""#))
        #expect(text.contains(#"llmlab_proxy_request_duration_seconds_bucket{route="/v1/chat/completions",provider="openai",le="0.025"} 0"#))
        #expect(text.contains(#"llmlab_proxy_request_duration_seconds_bucket{route="/v1/chat/completions",provider="openai",le="0.05"} 1"#))
        #expect(text.contains(#"llmlab_proxy_request_duration_seconds_bucket{route="/v1/chat/completions",provider="openai",le="2.5"} 2"#))
        #expect(text.contains(#"llmlab_proxy_request_duration_seconds_sum{route="/v1/chat/completions",provider="openai"} 2.03"#))
        #expect(text.contains(#"llmlab_proxy_upstream_errors_total{provider="openai",class="timeout"} 1"#))
    }

    @Test("model labels are capped so callers cannot grow the series without bound")
    func cardinality() {
        let metrics = GatewayMetrics()
        for index in 0..<(GatewayMetrics.maximumSeries + 10) {
            metrics.recordRequest(route: "/r", provider: "openai", model: "m\(index)", status: 200, duration: .zero)
        }
        #expect(metrics.render().contains(#"model="other",status="200"} 10"#))
    }

    @Test("error bodies are OpenAI's shape with param and code always present")
    func errorBody() {
        let error = GatewayError(.badRequest, .invalidRequest, "say \"hi\"\n", param: nil, code: "x")
        #expect(error.body == #"{"error":{"message":"say \"hi\"\n","type":"invalid_request_error","param":null,"code":"x"}}"#)
    }
}
