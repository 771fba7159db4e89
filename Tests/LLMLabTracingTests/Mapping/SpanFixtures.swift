import Foundation
@testable import LLMLabTracing

/// Hand-built OTLP spans with attribute sets as the instrumentations emit them (sources are
/// named per fixture), for the mapping tests.
enum SpanFixtures {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let tenant = TenantIngest(tenantID: UUID(uuidString: "00000000-0000-0000-0000-0000000000aa")!,
                                     projectID: UUID(uuidString: "00000000-0000-0000-0000-0000000000bb")!,
                                     captureContent: false)
    static var capturingTenant: TenantIngest {
        var tenant = tenant
        tenant.captureContent = true
        return tenant
    }

    /// 2025-06-01T00:00:00Z and 2025-11-01T00:00:00Z in Unix nanoseconds: after every
    /// catalog entry the tests price.
    static let june2025: UInt64 = 1_748_736_000 * 1_000_000_000
    static let november2025: UInt64 = 1_761_955_200 * 1_000_000_000

    static let resource: [String: AttributeValue] = ["service.name": .string("support-bot"), "telemetry.sdk.language": .string("python")]

    static func span(_ name: String, id: String = "00f067aa0ba902b7", parent: String = "", kind: Int = 3,
                     start: UInt64 = june2025, status: Int = 0, statusMessage: String = "",
                     attributes: [String: AttributeValue], events: [RawSpanEvent] = []) -> RawSpan {
        RawSpan(traceID: traceID, spanID: id, parentSpanID: parent, name: name, kind: kind,
                startTimeUnixNano: start, endTimeUnixNano: start + 1_250_000_000, statusCode: status,
                statusMessage: statusMessage, attributes: attributes, events: events, resourceAttributes: resource,
                scopeName: "test")
    }

    // MARK: OpenTelemetry GenAI, current (gen-ai-spans.md)

    /// An OpenAI reasoning-model chat call: input 1200 of which 1024 cache reads, output 300
    /// of which 192 reasoning; content attributes as opt-in content capture records them.
    static let openAIChatCurrent = span("chat o4-mini", attributes: [
        "gen_ai.operation.name": .string("chat"),
        "gen_ai.provider.name": .string("openai"),
        "gen_ai.request.model": .string("o4-mini"),
        "gen_ai.response.model": .string("o4-mini-2025-04-16"),
        "gen_ai.response.id": .string("chatcmpl-123"),
        "gen_ai.response.finish_reasons": .array([.string("stop")]),
        "gen_ai.usage.input_tokens": .int(1200),
        "gen_ai.usage.cache_read.input_tokens": .int(1024),
        "gen_ai.usage.output_tokens": .int(300),
        "gen_ai.usage.reasoning.output_tokens": .int(192),
        "gen_ai.conversation.id": .string("conv_5j66UpCpwteGg4YSxUnt7lPY"),
        "server.address": .string("api.openai.com"),
        "gen_ai.system_instructions": .string(#"[{"type":"text","content":"You are a weather bot."}]"#),
        "gen_ai.input.messages": .string(#"[{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]}]"#),
        "gen_ai.output.messages": .string(#"[{"role":"assistant","parts":[{"type":"text","content":"Rainy, 57°F."}],"finish_reason":"stop"}]"#),
    ], events: [
        RawSpanEvent(name: "gen_ai.user.message", timeUnixNano: june2025 + 1,
                     attributes: ["gen_ai.system": .string("openai"), "content": .string("Weather in Paris?")]),
    ])

    // MARK: OpenTelemetry GenAI, old (≤ 1.26 / OpenLLMetry spellings)

    static let openAIChatOld = span("openai.chat", attributes: [
        "gen_ai.system": .string("openai"),
        "gen_ai.request.model": .string("gpt-4o-mini"),
        "gen_ai.response.model": .string("gpt-4o-mini-2024-07-18"),
        "llm.request.type": .string("chat"),
        "gen_ai.usage.prompt_tokens": .int(1000),
        "gen_ai.usage.completion_tokens": .int(200),
        "gen_ai.prompt.0.role": .string("user"),
        "gen_ai.prompt.0.content": .string("Summarise this ticket"),
        "gen_ai.completion.0.role": .string("assistant"),
        "gen_ai.completion.0.content": .string("The customer wants a refund."),
        "gen_ai.completion.0.finish_reason": .string("stop"),
    ])

    /// Anthropic with prompt caching: input 5000 = 500 uncached + 3000 read + 1500 written.
    static let anthropicCached = span("chat claude-sonnet-4-5", start: november2025, attributes: [
        "gen_ai.operation.name": .string("chat"),
        "gen_ai.provider.name": .string("anthropic"),
        "gen_ai.request.model": .string("claude-sonnet-4-5"),
        "gen_ai.response.model": .string("claude-sonnet-4-5-20250929"),
        "gen_ai.usage.input_tokens": .int(5000),
        "gen_ai.usage.cache_read.input_tokens": .int(3000),
        "gen_ai.usage.cache_creation.input_tokens": .int(1500),
        "gen_ai.usage.output_tokens": .int(400),
        "gen_ai.response.finish_reasons": .array([.string("end_turn")]),
    ])

    static let embeddings = span("embeddings text-embedding-3-small", attributes: [
        "gen_ai.operation.name": .string("embeddings"),
        "gen_ai.provider.name": .string("openai"),
        "gen_ai.request.model": .string("text-embedding-3-small"),
        "gen_ai.usage.input_tokens": .int(5000),
        "gen_ai.embeddings.dimension.count": .int(1536),
    ])

    // MARK: OpenInference (spec/semantic_conventions.md; LangChain instrumentation style)

    static let openInferenceLLM = span("ChatOpenAI", kind: 1, attributes: [
        "openinference.span.kind": .string("LLM"),
        "llm.provider": .string("openai"),
        "llm.system": .string("openai"),
        "llm.model_name": .string("gpt-4o-2024-08-06"),
        "llm.invocation_parameters": .string(#"{"model_name":"gpt-4o","temperature":0.2}"#),
        "llm.token_count.prompt": .int(2000),
        "llm.token_count.prompt_details.cache_read": .int(1536),
        "llm.token_count.completion": .int(150),
        "llm.token_count.total": .int(2150),
        "llm.cost.total": .double(0.0046),
        "input.value": .string(#"{"messages":[["user","How do I reset my password?"]]}"#),
        "input.mime_type": .string("application/json"),
        "output.value": .string("Open Settings, then Security."),
        "llm.input_messages.0.message.role": .string("user"),
        "llm.input_messages.0.message.content": .string("How do I reset my password?"),
        "llm.output_messages.0.message.role": .string("assistant"),
        "llm.output_messages.0.message.content": .string("Open Settings, then Security."),
        "session.id": .string("sess-42"),
        "user.id": .string("user-7"),
        "metadata": .string(#"{"langgraph_node":"agent"}"#),
    ])

    static let openInferenceTool = span("search_docs", id: "00f067aa0ba902b8", kind: 1, attributes: [
        "openinference.span.kind": .string("TOOL"),
        "tool.name": .string("search_docs"),
        "tool.description": .string("Searches the help centre"),
        "input.value": .string(#"{"query":"reset password"}"#),
        "output.value": .string("Article 12: Resetting your password"),
    ])

    static let openInferenceChain = span("LangGraph", id: "00f067aa0ba902b9", kind: 1, attributes: [
        "openinference.span.kind": .string("CHAIN"),
        "input.value": .string(#"{"question":"reset password"}"#),
        "output.value": .string("Open Settings, then Security."),
        "session.id": .string("sess-42"),
    ])

    // MARK: Pydantic AI (instrumented.py / _instrumentation.py)

    /// Version 1 agent span ("agent run"), aggregated usage, event-based messages.
    static let pydanticAgentRun = span("agent run", id: "1000000000000001", kind: 1, attributes: [
        "model_name": .string("gpt-4o"),
        "agent_name": .string("support_agent"),
        "logfire.msg": .string("support_agent run"),
        "gen_ai.usage.input_tokens": .int(2400),
        "gen_ai.usage.output_tokens": .int(120),
        "all_messages_events": .string(#"[{"role":"user","content":"Weather in Paris?","gen_ai.message.index":0}]"#),
        "final_result": .string("It is rainy in Paris."),
    ])

    /// Model request span ("chat {model}") with Pydantic AI's usage details and genai-prices cost.
    static let pydanticChat = span("chat gpt-4o", id: "1000000000000002", parent: "1000000000000001", attributes: [
        "gen_ai.operation.name": .string("chat"),
        "gen_ai.provider.name": .string("openai"),
        "gen_ai.system": .string("openai"),
        "gen_ai.request.model": .string("gpt-4o"),
        "gen_ai.response.model": .string("gpt-4o-2024-08-06"),
        "model_request_parameters": .string(#"{"function_tools":[{"name":"get_weather"}],"allow_text_output":true}"#),
        "gen_ai.usage.input_tokens": .int(1200),
        "gen_ai.usage.output_tokens": .int(80),
        "gen_ai.usage.details.cache_read_tokens": .int(1024),
        "operation.cost": .double(0.00252),
        "gen_ai.response.finish_reasons": .array([.string("tool_call")]),
        "gen_ai.agent.name": .string("support_agent"),
        "events": .string(#"[{"event.name":"gen_ai.user.message","content":"Weather in Paris?","role":"user"}]"#),
    ])

    /// Version 1 tool span ("running tool").
    static let pydanticRunningTool = span("running tool", id: "1000000000000003", parent: "1000000000000001", kind: 1, attributes: [
        "gen_ai.tool.name": .string("get_weather"),
        "gen_ai.tool.call.id": .string("call_VSPygqKTWdrhaFErNvMV18Yl"),
        "tool_arguments": .string(#"{"city":"Paris"}"#),
        "tool_response": .string("rainy, 57°F"),
        "logfire.msg": .string("running tool: get_weather"),
    ])

    /// Version 3+ tool span ("execute_tool {name}").
    static let pydanticExecuteTool = span("execute_tool get_weather", id: "1000000000000004", kind: 1, attributes: [
        "gen_ai.operation.name": .string("execute_tool"),
        "gen_ai.tool.name": .string("get_weather"),
        "gen_ai.tool.call.id": .string("call_1"),
        "gen_ai.tool.call.arguments": .string(#"{"city":"Paris"}"#),
        "gen_ai.tool.call.result": .string("rainy, 57°F"),
    ])

    // MARK: Failures

    static let failingTool = span("execute_tool fetch_url", id: "2000000000000001", kind: 1, status: 2, attributes: [
        "gen_ai.operation.name": .string("execute_tool"),
        "gen_ai.tool.name": .string("fetch_url"),
        "error.type": .string("TimeoutError"),
    ], events: [
        RawSpanEvent(name: "exception", timeUnixNano: june2025 + 900, attributes: [
            "exception.type": .string("TimeoutError"),
            "exception.message": .string("fetch_url timed out after 30s"),
            "exception.stacktrace": .string("Traceback (most recent call last): …"),
            "exception.escaped": .bool(true),
        ]),
    ])

    static let rateLimited = span("chat gpt-4o-mini", id: "2000000000000002", status: 2,
                                  statusMessage: "Error code: 429 - Rate limit reached", attributes: [
        "gen_ai.operation.name": .string("chat"),
        "gen_ai.provider.name": .string("openai"),
        "gen_ai.request.model": .string("gpt-4o-mini"),
        "error.type": .string("RateLimitError"),
        "http.response.status_code": .int(429),
    ])

    static let lengthFinish = span("chat gpt-4o-mini", id: "2000000000000003", attributes: [
        "gen_ai.operation.name": .string("chat"),
        "gen_ai.provider.name": .string("openai"),
        "gen_ai.request.model": .string("gpt-4o-mini"),
        "gen_ai.usage.input_tokens": .int(1000),
        "gen_ai.usage.output_tokens": .int(200),
        "gen_ai.response.finish_reasons": .array([.string("length")]),
    ])
}
