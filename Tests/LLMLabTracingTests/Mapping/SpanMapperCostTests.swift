import Foundation
import LLMLabCore
@testable import LLMLabTracing
import Testing

/// Token classes and cost per convention. Every expected cost is worked out by hand from
/// `Sources/LLMLabCore/Pricing/catalog.json` (USD per million tokens; the entry is named).
@Suite("Span mapping: tokens and cost")
struct SpanMapperCostTests {
    let mapper = SpanMapper()

    func mapped(_ span: RawSpan, overrides: [PriceOverride] = []) -> NormalizedSpan {
        mapper.map([span], tenant: SpanFixtures.tenant, overrides: overrides)[0]
    }

    @Test("GenAI semconv OpenAI: input includes cache reads, output includes reasoning; each priced once")
    func openAICurrent() {
        let span = mapped(SpanFixtures.openAIChatCurrent)
        #expect(span.category == .llm)
        #expect(span.provider == "openai")
        #expect(span.requestModel == "o4-mini")
        #expect(span.responseModel == "o4-mini-2025-04-16")
        #expect(span.tokens == TokenUsage(uncachedInput: 176, cacheRead: 1024, output: 108, reasoning: 192))
        // catalog openai/o4-mini (alias o4-mini-2025-04-16): input 1.10, cached_input 0.275, output 4.40,
        // no reasoning price → reasoning at the output price.
        // 176×1.10 + 1024×0.275 + 108×4.40 + 192×4.40 = 193.6 + 281.6 + 475.2 + 844.8 = 1795.2 µ$ → 0.0017952
        #expect(span.costUSD == "0.0017952")
        #expect(span.unpricedReason == "")
        #expect(span.finishReason == "stop")
        #expect(span.sessionID == "conv_5j66UpCpwteGg4YSxUnt7lPY")
        #expect(span.serviceName == "support-bot")
        #expect(!span.isError)
    }

    @Test("old gen_ai.system + prompt_tokens/completion_tokens (no operation name) is an LLM span")
    func openAIOld() {
        let span = mapped(SpanFixtures.openAIChatOld)
        #expect(span.category == .llm)
        #expect(span.provider == "openai")
        #expect(span.tokens == TokenUsage(uncachedInput: 1000, output: 200))
        // catalog openai/gpt-4o-mini (alias gpt-4o-mini-2024-07-18): input 0.15, output 0.60.
        // 1000×0.15 + 200×0.60 = 150 + 120 = 270 µ$ → 0.00027
        #expect(span.costUSD == "0.00027")
        #expect(span.finishReason == "stop")
    }

    @Test("Anthropic: cache read and cache creation are inside input_tokens; writes priced as 5-minute writes")
    func anthropic() {
        let span = mapped(SpanFixtures.anthropicCached)
        #expect(span.provider == "anthropic")
        #expect(span.tokens == TokenUsage(uncachedInput: 500, cacheRead: 3000, cacheWrite5m: 1500, output: 400))
        // catalog anthropic/claude-sonnet-4-5 (alias claude-sonnet-4-5-20250929, from 2025-09-29):
        // input 3, cached_input 0.30, cache_write_5m 3.75, output 15.
        // 500×3 + 3000×0.30 + 1500×3.75 + 400×15 = 1500 + 900 + 5625 + 6000 = 14025 µ$ → 0.014025
        #expect(span.costUSD == "0.014025")
        #expect(span.finishReason == "end_turn")
    }

    @Test("OpenInference LLM span: prompt includes prompt_details.cache_read; reported cost kept beside ours")
    func openInference() {
        let span = mapped(SpanFixtures.openInferenceLLM)
        #expect(span.category == .llm)
        #expect(span.provider == "openai")
        #expect(span.requestModel == "gpt-4o-2024-08-06")
        #expect(span.tokens == TokenUsage(uncachedInput: 464, cacheRead: 1536, output: 150))
        // catalog openai/gpt-4o (alias gpt-4o-2024-08-06): input 2.50, cached_input 1.25, output 10.00.
        // 464×2.50 + 1536×1.25 + 150×10 = 1160 + 1920 + 1500 = 4580 µ$ → 0.00458
        #expect(span.costUSD == "0.00458")
        #expect(span.reportedCostUSD == "0.0046")
        #expect(span.sessionID == "sess-42")
        #expect(span.userID == "user-7")
    }

    @Test("Pydantic AI chat span: gen_ai.usage.details.cache_read_tokens, operation.cost as reported cost")
    func pydanticChat() {
        let span = mapped(SpanFixtures.pydanticChat)
        #expect(span.category == .llm)
        #expect(span.tokens == TokenUsage(uncachedInput: 176, cacheRead: 1024, output: 80))
        // catalog openai/gpt-4o: 176×2.50 + 1024×1.25 + 80×10 = 440 + 1280 + 800 = 2520 µ$ → 0.00252
        #expect(span.costUSD == "0.00252")
        #expect(span.reportedCostUSD == "0.00252")
        #expect(span.finishReason == "tool_call")
    }

    @Test("embeddings span: input tokens only")
    func embeddings() {
        let span = mapped(SpanFixtures.embeddings)
        #expect(span.category == .embedding)
        #expect(span.tokens == TokenUsage(uncachedInput: 5000))
        // catalog openai/text-embedding-3-small: input 0.02. 5000×0.02 = 100 µ$ → 0.0001
        #expect(span.costUSD == "0.0001")
    }

    @Test("a tenant override prices the span: 20% discount on gpt-4o-mini")
    func override() throws {
        let discount = try PriceOverride.parse(provider: "openai", model: "gpt-4o-mini",
                                               effectiveFrom: Date(timeIntervalSince1970: 1_700_000_000), discountPercent: "20")
        let span = mapped(SpanFixtures.openAIChatOld, overrides: [discount])
        // catalog openai/gpt-4o-mini 0.15 / 0.60, less 20% = 0.12 / 0.48: 1000×0.12 + 200×0.48 = 216 µ$
        #expect(span.costUSD == "0.000216")
    }

    @Test("unknown model: no cost (never zero) and the reason")
    func unknownModel() {
        var raw = SpanFixtures.lengthFinish
        raw.attributes["gen_ai.request.model"] = .string("gpt-9-ultra")
        let span = mapped(raw)
        #expect(span.costUSD == nil)
        #expect(span.unpricedReason.hasPrefix("unknown_model: "))
        #expect(span.tokens == TokenUsage(uncachedInput: 1000, output: 200))
    }

    @Test("a provider we do not price keeps its name and is unpriced")
    func unknownProvider() {
        var raw = SpanFixtures.anthropicCached
        raw.attributes["gen_ai.provider.name"] = .string("aws.bedrock")
        let span = mapped(raw)
        #expect(span.provider == "aws.bedrock")
        #expect(span.costUSD == nil)
        #expect(span.unpricedReason.hasPrefix("unknown_provider: "))
    }

    @Test("provider names map to ours: gcp.gemini, gcp.vertex_ai, azure.ai.openai, az.ai.openai, google-gla")
    func providerNames() {
        #expect(ProviderNameMapper.provider(for: "gcp.gemini") == .gemini)
        #expect(ProviderNameMapper.provider(for: "gcp.vertex_ai") == .gemini)
        #expect(ProviderNameMapper.provider(for: "google-gla") == .gemini)
        #expect(ProviderNameMapper.provider(for: "azure.ai.openai") == .azureOpenAI)
        #expect(ProviderNameMapper.provider(for: "az.ai.openai") == .azureOpenAI)
        #expect(ProviderNameMapper.provider(for: "mistral_ai") == nil)
    }

    @Test("Gemini via gcp.gemini is priced with the gemini catalog")
    func gemini() {
        let raw = SpanFixtures.span("generate_content gemini-2.5-flash", start: SpanFixtures.november2025, attributes: [
            "gen_ai.operation.name": .string("generate_content"),
            "gen_ai.provider.name": .string("gcp.gemini"),
            "gen_ai.request.model": .string("gemini-2.5-flash"),
            "gen_ai.usage.input_tokens": .int(10_000),
            "gen_ai.usage.cache_read.input_tokens": .int(4000),
            "gen_ai.usage.output_tokens": .int(1000),
        ])
        let span = mapped(raw)
        #expect(span.provider == "gemini")
        // catalog gemini/gemini-2.5-flash (from 2025-10-31): input 0.30, cached_input 0.03, output 2.50.
        // 6000×0.30 + 4000×0.03 + 1000×2.50 = 1800 + 120 + 2500 = 4420 µ$ → 0.00442
        #expect(span.costUSD == "0.00442")
    }

    @Test("inconsistent counts (cache reads above input) are not priced")
    func invalidUsage() {
        var raw = SpanFixtures.anthropicCached
        raw.attributes["gen_ai.usage.input_tokens"] = .int(500)
        let span = mapped(raw)
        #expect(span.costUSD == nil)
        #expect(span.unpricedReason.hasPrefix("invalid_usage: "))
        #expect(span.unpricedReason.contains("gen_ai.usage.input_tokens (500)"))
        #expect(span.tokens.uncachedInput == 0)
    }

    @Test("reasoning above output is not priced")
    func invalidReasoning() {
        var raw = SpanFixtures.openAIChatCurrent
        raw.attributes["gen_ai.usage.reasoning.output_tokens"] = .int(301)
        let span = mapped(raw)
        #expect(span.costUSD == nil)
        #expect(span.unpricedReason.hasPrefix("invalid_usage: "))
        #expect(span.tokens.output == 0)
    }

    @Test("an LLM span without token counts is unpriced, not zero")
    func noUsage() {
        let span = mapped(SpanFixtures.rateLimited)
        #expect(span.costUSD == nil)
        #expect(span.unpricedReason.hasPrefix("no_usage: "))
    }

    @Test("reported costs become plain decimal text")
    func decimalText() {
        #expect(DecimalText.plain(1.5e-07) == "0.00000015")
        #expect(DecimalText.plain(0.01039005) == "0.01039005")
        #expect(DecimalText.plain(12.0) == "12")
        #expect(DecimalText.plain(1e21) == "1000000000000000000000")
        #expect(DecimalText.plain(-1) == nil)
        #expect(DecimalText.plain(.nan) == nil)
    }
}
