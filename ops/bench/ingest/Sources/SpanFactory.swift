import Foundation
import LLMLabProto

/// Realistic GenAI traces as an OpenTelemetry SDK would export them: per trace an
/// `invoke_agent` root (INTERNAL), 2–3 `chat` LLM spans (CLIENT, OpenAI/Anthropic models of
/// the pricing catalog, 19–23 attributes: request parameters, usage incl. cache-read and
/// reasoning tokens, finish reasons, ids, server address), 1–2 `execute_tool` spans; about
/// 5 % of the LLM calls and 8 % of the tool calls fail (status ERROR, `error.type`, an
/// `exception` event with message and stack trace). Random trace/span ids, timestamps
/// ending "now". A batch is one resource (service attributes like the Python SDK's) with
/// one instrumentation scope, like a BatchSpanProcessor's export.
struct SpanFactory {
    typealias Span = Opentelemetry_Proto_Trace_V1_Span
    typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue
    typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest

    private var rng: SplitMix64
    private let resource: Opentelemetry_Proto_Resource_V1_Resource
    private let scope: Opentelemetry_Proto_Common_V1_InstrumentationScope

    private static let models: [(provider: String, request: String, response: String, server: String)] = [
        ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "api.openai.com"),
        ("openai", "gpt-4.1", "gpt-4.1-2025-04-14", "api.openai.com"),
        ("openai", "gpt-5-mini", "gpt-5-mini-2025-08-07", "api.openai.com"),
        ("openai", "o4-mini", "o4-mini-2025-04-16", "api.openai.com"),
        ("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "api.anthropic.com"),
        ("anthropic", "claude-opus-4-1", "claude-opus-4-1-20250805", "api.anthropic.com"),
    ]
    private static let tools = ["search_knowledge_base", "get_weather", "lookup_order", "run_sql_query", "send_email"]
    private static let agents = ["support-agent", "research-agent", "billing-agent"]
    private static let stack = """
        Traceback (most recent call last):
          File "/app/agent/tools.py", line 88, in call_tool
            result = await tool.run(**arguments)
          File "/app/agent/tools/http.py", line 41, in run
            response.raise_for_status()
        httpx.HTTPStatusError: Server error '503 Service Unavailable' for url 'https://internal.example.com/api'
        """

    init(seed: UInt64, service: String) {
        rng = SplitMix64(seed: seed)
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        resource.attributes = [
            Self.kv("service.name", service), Self.kv("service.version", "1.14.2"),
            Self.kv("deployment.environment.name", "production"), Self.kv("telemetry.sdk.language", "python"),
            Self.kv("telemetry.sdk.name", "opentelemetry"), Self.kv("telemetry.sdk.version", "1.38.0"),
            Self.kv("host.name", "worker-7f9c4d-2"), Self.kv("process.pid", Int64(4242)),
        ]
        self.resource = resource
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = "llmlab"
        scope.version = "0.1.0"
        self.scope = scope
    }

    /// One export of `spans` spans (whole traces; the last one cut short to fit exactly).
    mutating func request(spans count: Int) -> Request {
        var spans: [Span] = []
        spans.reserveCapacity(count + 8)
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        while spans.count < count {
            appendTrace(to: &spans, endingAt: now)
        }
        if spans.count > count { spans.removeLast(spans.count - count) }
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope = scope
        scopeSpans.spans = spans
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource = resource
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Request()
        request.resourceSpans = [resourceSpans]
        return request
    }

    private mutating func appendTrace(to spans: inout [Span], endingAt now: UInt64) {
        let traceID = randomBytes(16)
        let rootID = randomBytes(8)
        let agent = Self.agents[next(Self.agents.count)]
        let llmCalls = 2 + next(2)
        let toolCalls = 1 + next(2)
        // Children back to back from the root's start: LLM 0.4–3 s, tool 20–400 ms.
        let rootStart = now - 30_000_000_000 + UInt64(next(10_000)) * 1_000_000
        var cursor = rootStart + 2_000_000
        var failed = false
        var children: [Span] = []
        var inputTotal: Int64 = 0
        var outputTotal: Int64 = 0
        for index in 0..<(llmCalls + toolCalls) {
            // Alternate: chat, tool, chat, tool, chat…; leftover of one kind at the end.
            let isLLM = index % 2 == 0 ? index / 2 < llmCalls : (index / 2 >= toolCalls)
            var span: Span
            if isLLM {
                span = chatSpan(traceID: traceID, parent: rootID, start: cursor)
                inputTotal += span.attributes.first { $0.key == "gen_ai.usage.input_tokens" }?.value.intValue ?? 0
                outputTotal += span.attributes.first { $0.key == "gen_ai.usage.output_tokens" }?.value.intValue ?? 0
            } else {
                span = toolSpan(traceID: traceID, parent: rootID, start: cursor)
            }
            if span.status.code == .error { failed = true }
            cursor = span.endTimeUnixNano + UInt64(1 + next(5)) * 1_000_000
            children.append(span)
        }
        var root = Span()
        root.traceID = traceID
        root.spanID = rootID
        root.name = "invoke_agent \(agent)"
        root.kind = .internal
        root.startTimeUnixNano = rootStart
        root.endTimeUnixNano = cursor
        root.flags = 0x100
        root.attributes = [
            Self.kv("gen_ai.operation.name", "invoke_agent"), Self.kv("gen_ai.agent.name", agent),
            Self.kv("gen_ai.agent.id", "agt_\(hex(randomBytes(6)))"), Self.kv("gen_ai.conversation.id", "conv_\(hex(randomBytes(8)))"),
            Self.kv("llmlab.span.kind", "agent"), Self.kv("llmlab.session_id", "sess-\(next(5000))"),
            Self.kv("llmlab.user_id", "user-\(next(20000))"),
            Self.kv("gen_ai.usage.input_tokens", inputTotal), Self.kv("gen_ai.usage.output_tokens", outputTotal),
        ]
        if failed {
            root.status.code = .error
            root.status.message = "a step of the agent failed"
        }
        spans.append(root)
        spans.append(contentsOf: children)
    }

    private mutating func chatSpan(traceID: Data, parent: Data, start: UInt64) -> Span {
        let model = Self.models[next(Self.models.count)]
        let input = Int64(300 + next(6000))
        let output = Int64(20 + next(900))
        let duration = UInt64(400 + next(2600)) * 1_000_000
        var span = Span()
        span.traceID = traceID
        span.spanID = randomBytes(8)
        span.parentSpanID = parent
        span.name = "chat \(model.request)"
        span.kind = .client
        span.flags = 0x300
        span.startTimeUnixNano = start
        span.endTimeUnixNano = start + duration
        var attributes: [KeyValue] = [
            Self.kv("gen_ai.operation.name", "chat"),
            Self.kv("gen_ai.provider.name", model.provider),
            Self.kv("gen_ai.system", model.provider),
            Self.kv("gen_ai.request.model", model.request),
            Self.kv("gen_ai.request.temperature", Double(next(11)) / 10),
            Self.kv("gen_ai.request.top_p", 1.0),
            Self.kv("gen_ai.request.max_tokens", Int64(1024)),
            Self.kv("gen_ai.request.seed", Int64(next(1_000_000))),
            Self.kv("server.address", model.server),
            Self.kv("server.port", Int64(443)),
            Self.kv("llmlab.span.kind", "llm"),
            Self.kv("llmlab.streamed", next(2) == 0),
            Self.kv("llmlab.request_id", "req_\(hex(randomBytes(12)))"),
        ]
        let fails = next(100) < 5
        if fails {
            let kind = next(2) == 0 ? "RateLimitError" : "APITimeoutError"
            attributes.append(Self.kv("error.type", kind))
            span.status.code = .error
            span.status.message = kind == "RateLimitError" ? "Error code: 429 - rate limit exceeded for \(model.request)" : "Request timed out."
            span.events = [exception(kind, message: span.status.message, at: span.endTimeUnixNano)]
        } else {
            attributes += [
                Self.kv("gen_ai.response.model", model.response),
                Self.kv("gen_ai.response.id", model.provider == "openai" ? "chatcmpl-\(hex(randomBytes(12)))" : "msg_\(hex(randomBytes(12)))"),
                Self.kv("gen_ai.response.finish_reasons", [next(5) == 0 ? (model.provider == "openai" ? "tool_calls" : "tool_use") : (model.provider == "openai" ? "stop" : "end_turn")]),
                Self.kv("gen_ai.usage.input_tokens", input),
                Self.kv("gen_ai.usage.output_tokens", output),
                Self.kv("gen_ai.usage.cache_read.input_tokens", next(3) == 0 ? Int64(next(Int(input / 2))) : 0),
                Self.kv("gen_ai.usage.reasoning.output_tokens", model.request.hasPrefix("o") || model.request.hasPrefix("gpt-5") ? Int64(next(Int(output))) : 0),
                Self.kv("llmlab.ttft_ms", Int64(150 + next(600))),
            ]
        }
        span.attributes = attributes
        return span
    }

    private mutating func toolSpan(traceID: Data, parent: Data, start: UInt64) -> Span {
        let tool = Self.tools[next(Self.tools.count)]
        var span = Span()
        span.traceID = traceID
        span.spanID = randomBytes(8)
        span.parentSpanID = parent
        span.name = "execute_tool \(tool)"
        span.kind = .internal
        span.flags = 0x100
        span.startTimeUnixNano = start
        span.endTimeUnixNano = start + UInt64(20 + next(380)) * 1_000_000
        var attributes: [KeyValue] = [
            Self.kv("gen_ai.operation.name", "execute_tool"),
            Self.kv("gen_ai.tool.name", tool),
            Self.kv("gen_ai.tool.type", "function"),
            Self.kv("gen_ai.tool.call.id", "call_\(hex(randomBytes(12)))"),
            Self.kv("gen_ai.tool.description", "Looks things up for the agent (\(tool))."),
            Self.kv("llmlab.span.kind", "tool"),
            Self.kv("code.function.name", "agent.tools.\(tool)"),
        ]
        if next(100) < 8 {
            attributes.append(Self.kv("error.type", "httpx.HTTPStatusError"))
            span.status.code = .error
            span.status.message = "HTTPStatusError: Server error '503 Service Unavailable'"
            span.events = [exception("httpx.HTTPStatusError", message: span.status.message, at: span.endTimeUnixNano)]
        }
        span.attributes = attributes
        return span
    }

    private func exception(_ type: String, message: String, at time: UInt64) -> Span.Event {
        var event = Span.Event()
        event.name = "exception"
        event.timeUnixNano = time
        event.attributes = [
            Self.kv("exception.type", type), Self.kv("exception.message", message),
            Self.kv("exception.stacktrace", Self.stack), Self.kv("exception.escaped", "True"),
        ]
        return event
    }

    // MARK: Values

    static func kv(_ key: String, _ value: String) -> KeyValue {
        var kv = KeyValue()
        kv.key = key
        kv.value.stringValue = value
        return kv
    }

    static func kv(_ key: String, _ value: Int64) -> KeyValue {
        var kv = KeyValue()
        kv.key = key
        kv.value.intValue = value
        return kv
    }

    static func kv(_ key: String, _ value: Double) -> KeyValue {
        var kv = KeyValue()
        kv.key = key
        kv.value.doubleValue = value
        return kv
    }

    static func kv(_ key: String, _ value: Bool) -> KeyValue {
        var kv = KeyValue()
        kv.key = key
        kv.value.boolValue = value
        return kv
    }

    static func kv(_ key: String, _ values: [String]) -> KeyValue {
        var kv = KeyValue()
        kv.key = key
        kv.value.arrayValue.values = values.map { text in
            var value = Opentelemetry_Proto_Common_V1_AnyValue()
            value.stringValue = text
            return value
        }
        return kv
    }

    private mutating func next(_ bound: Int) -> Int {
        bound <= 1 ? 0 : Int(rng.next() % UInt64(bound))
    }

    private mutating func randomBytes(_ count: Int) -> Data {
        var data = Data(capacity: count)
        var remaining = count
        while remaining > 0 {
            var word = rng.next()
            for _ in 0..<min(8, remaining) {
                data.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
            remaining -= min(8, remaining)
        }
        return data
    }

    private func hex(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(data.count * 2)
        for byte in data {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A fast, seedable generator (ids need to be unique, not cryptographic); each exporter
/// seeds its own from the system generator.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
