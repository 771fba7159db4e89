import Foundation
import LLMLabCore
@testable import LLMLabTracing
import Testing

@Suite("Span mapping: kinds, errors, identity")
struct SpanMapperKindTests {
    let mapper = SpanMapper()

    func mapped(_ span: RawSpan) -> NormalizedSpan {
        mapper.map([span], tenant: SpanFixtures.tenant, overrides: [])[0]
    }

    @Test("OpenInference TOOL and CHAIN spans")
    func openInferenceKinds() {
        let tool = mapped(SpanFixtures.openInferenceTool)
        #expect(tool.category == .tool)
        #expect(tool.toolName == "search_docs")
        #expect(tool.costUSD == nil && tool.unpricedReason == "")
        let chain = mapped(SpanFixtures.openInferenceChain)
        #expect(chain.category == .chain)
        #expect(chain.sessionID == "sess-42")
    }

    @Test("Pydantic AI agent run, chat and tool spans (versions 1 and 3+)")
    func pydantic() {
        let spans = mapper.map([SpanFixtures.pydanticAgentRun, SpanFixtures.pydanticChat, SpanFixtures.pydanticRunningTool,
                                SpanFixtures.pydanticExecuteTool], tenant: SpanFixtures.tenant, overrides: [])
        #expect(spans.map(\.category) == [.agent, .llm, .tool, .tool])
        // The agent span repeats its children's usage: not priced, no tokens, so nothing counts twice.
        #expect(spans[0].tokens == .zero)
        #expect(spans[0].costUSD == nil && spans[0].unpricedReason == "")
        #expect(spans[0].requestModel == "gpt-4o")
        #expect(spans[2].toolName == "get_weather")
        #expect(spans[3].toolName == "get_weather")
        #expect(spans[1].parentSpanID == "1000000000000001")
        #expect(spans.allSatisfy { $0.projectID == SpanFixtures.tenant.projectID })
    }

    @Test("GenAI operation names: invoke_agent, create_agent, retrieval, execute_tool")
    func operationNames() {
        for (operation, category) in [("invoke_agent", SpanCategory.agent), ("create_agent", .agent), ("retrieval", .retriever),
                                      ("execute_tool", .tool), ("text_completion", .llm), ("something_else", .other)] {
            let span = mapped(SpanFixtures.span("op", attributes: ["gen_ai.operation.name": .string(operation)]))
            #expect(span.category == category, "\(operation)")
        }
        #expect(mapped(SpanFixtures.span("GET /", attributes: [:])).category == .other)
        #expect(mapped(SpanFixtures.span("r", attributes: ["openinference.span.kind": .string("RETRIEVER")])).category == .retriever)
        #expect(mapped(SpanFixtures.span("e", attributes: ["openinference.span.kind": .string("EMBEDDING")])).category == .embedding)
    }

    @Test("a failing tool with an exception event: tool error, timeout, exception; message from the event")
    func failingTool() {
        let span = mapped(SpanFixtures.failingTool)
        #expect(span.category == .tool)
        #expect(span.isError)
        #expect(span.errorFlags == [.toolError, .timeout, .exception])
        #expect(span.errorMessage == "fetch_url timed out after 30s")
        #expect(span.eventsJSON.contains("\"name\":\"exception\""))
    }

    @Test("a provider error: HTTP 429 and error.type are API errors; status message wins")
    func apiError() {
        let span = mapped(SpanFixtures.rateLimited)
        #expect(span.isError)
        #expect(span.errorFlags == [.apiError])
        #expect(span.errorMessage == "Error code: 429 - Rate limit reached")
    }

    @Test("finish reason length marks the token limit, a warning rather than a failure")
    func tokenLimit() {
        let span = mapped(SpanFixtures.lengthFinish)
        #expect(span.finishReason == "length")
        #expect(span.errorFlags == [.tokenLimit])
        #expect(!span.isError)
        // Still priced: catalog openai/gpt-4o-mini 1000×0.15 + 200×0.60 = 270 µ$.
        #expect(span.costUSD == "0.00027")
    }

    @Test("error.type alone becomes the message; a clean span has no flags")
    func errorTypeOnly() {
        var raw = SpanFixtures.embeddings
        raw.attributes["error.type"] = .string("timeout")
        let span = mapped(raw)
        #expect(span.errorFlags == [.apiError, .timeout])
        #expect(span.errorMessage == "timeout")
        #expect(mapped(SpanFixtures.embeddings).errorFlags.isEmpty)
    }

    @Test("user and session: our SDK first, then session.id / user.id, then gen_ai.conversation.id / enduser.id")
    func identity() {
        let ours = mapped(SpanFixtures.span("x", attributes: [
            "llmlab.session_id": .string("s-ours"), "session.id": .string("s-oi"), "gen_ai.conversation.id": .string("conv"),
            "llmlab.user_id": .string("u-ours"), "user.id": .string("u-oi"), "enduser.id": .string("u-end"),
        ]))
        #expect(ours.sessionID == "s-ours" && ours.userID == "u-ours")
        let semconv = mapped(SpanFixtures.span("x", attributes: [
            "gen_ai.conversation.id": .string("conv"), "enduser.id": .string("u-end"),
        ]))
        #expect(semconv.sessionID == "conv" && semconv.userID == "u-end")
    }

    @Test("times keep nanoseconds; cost is priced at the span's start")
    func times() {
        let span = mapped(SpanFixtures.openAIChatCurrent)
        #expect(span.startTimeUnixNano == SpanFixtures.june2025)
        #expect(span.durationNanos == 1_250_000_000)
        var early = SpanFixtures.openAIChatCurrent
        early.startTimeUnixNano = 1_700_000_000 * 1_000_000_000 // 2023-11-14, before o4-mini's first price
        early.endTimeUnixNano = early.startTimeUnixNano + 1
        #expect(mapped(early).unpricedReason.hasPrefix("no_price_in_force: "))
    }
}
