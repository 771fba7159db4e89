import Foundation
import LLMLabCore
import Testing

/// Costs against the bundled catalog. Every expectation is worked out by hand from the
/// catalog's published numbers (USD per 1M tokens): tokens × price / 1,000,000, written
/// out as exact decimals in the comments and literals.
@Suite("CostCalculator")
struct CostCalculatorTests {
    // MARK: Provider usage shapes

    @Test("OpenAI gpt-5 chat completion with cached and reasoning tokens")
    func openAICachedAndReasoning() throws {
        let usage = try OpenAIChatCompletionUsage(
            promptTokens: 2006, completionTokens: 300,
            promptTokensDetails: .init(cachedTokens: 1920), completionTokensDetails: .init(reasoningTokens: 192)
        ).normalized()
        let result = CostCalculator.cost(provider: .openai, model: "gpt-5-2025-08-07", usage: usage, at: recent)
        // gpt-5: input 1.25, cached_input 0.125, output 10 (reasoning billed as output)
        //   uncached   86 × 1.25  = 0.0001075
        //   cached   1920 × 0.125 = 0.00024
        //   output    108 × 10    = 0.00108
        //   reasoning 192 × 10    = 0.00192
        #expect(pricedTotal(result) == usd("0.0033475"))
        #expect(result.line(.uncachedInput)?.cost == usd("0.0001075"))
        #expect(result.line(.cacheRead)?.cost == usd("0.00024"))
        #expect(result.line(.output)?.cost == usd("0.00108"))
        #expect(result.line(.reasoning)?.cost == usd("0.00192"))
        #expect(result.line(.reasoning)?.price == result.line(.output)?.price)
        if case .priced(_, _, let price) = result {
            #expect(price.entry?.model == "gpt-5")
            #expect(price.tier == .standard)
            #expect(!price.batch)
        }
    }

    @Test("OpenAI Responses usage on o4-mini")
    func openAIResponses() throws {
        let usage = try OpenAIResponsesUsage(
            inputTokens: 5000, inputTokensDetails: .init(cachedTokens: 4096),
            outputTokens: 1500, outputTokensDetails: .init(reasoningTokens: 1024)
        ).normalized()
        // o4-mini: input 1.10, cached 0.275, output 4.40
        //   904 × 1.10 = 0.0009944; 4096 × 0.275 = 0.0011264; (476 + 1024) × 4.40 = 0.0066
        let result = CostCalculator.cost(provider: .openai, model: "o4-mini", usage: usage, at: recent)
        #expect(pricedTotal(result) == usd("0.0087208"))
    }

    @Test("the smallest charge: one cached gpt-4o-mini token at $0.075/M")
    func oneToken() {
        let result = CostCalculator.cost(provider: .openai, model: "gpt-4o-mini", usage: TokenUsage(cacheRead: 1), at: recent)
        // 1 × 0.075 / 1,000,000 = 0.000000075 = 75,000 pico-USD
        #expect(pricedTotal(result) == usd("0.000000075"))
        #expect(result.total?.picoUSD == 75_000)
    }

    @Test("Anthropic Sonnet 4.5 with cache reads and 5-minute and 1-hour cache writes")
    func anthropicCacheWrites() throws {
        let usage = try AnthropicUsage(
            inputTokens: 50, outputTokens: 503, cacheCreationInputTokens: 2048, cacheReadInputTokens: 1800,
            cacheCreation: .init(ephemeral5mInputTokens: 1024, ephemeral1hInputTokens: 1024)
        ).normalized()
        let result = CostCalculator.cost(provider: .anthropic, model: "claude-sonnet-4-5-20250929", usage: usage, at: recent)
        // Sonnet 4.5: input 3, 5m write 3.75, 1h write 6, cache read 0.30, output 15
        //   50 × 3 = 0.00015; 1800 × 0.30 = 0.00054; 1024 × 3.75 = 0.00384; 1024 × 6 = 0.006144; 503 × 15 = 0.007545
        #expect(pricedTotal(result) == usd("0.018219"))
        #expect(result.line(.cacheWrite5m)?.cost == usd("0.00384"))
        #expect(result.line(.cacheWrite1h)?.cost == usd("0.006144"))
    }

    @Test("Anthropic Haiku 4.5 and Opus 4.1")
    func anthropicOthers() {
        let usage = TokenUsage(uncachedInput: 10_000, cacheRead: 20_000, cacheWrite5m: 4_000, output: 1_000)
        // Haiku 4.5: 10000 × 1 = 0.01; 20000 × 0.10 = 0.002; 4000 × 1.25 = 0.005; 1000 × 5 = 0.005
        #expect(pricedTotal(CostCalculator.cost(provider: .anthropic, model: "claude-haiku-4-5", usage: usage, at: recent)) == usd("0.022"))
        // Opus 4.1: 10000 × 15 = 0.15; 20000 × 1.50 = 0.03; 4000 × 18.75 = 0.075; 1000 × 75 = 0.075
        #expect(pricedTotal(CostCalculator.cost(provider: .anthropic, model: "claude-opus-4-1-20250805", usage: usage, at: recent)) == usd("0.33"))
    }

    @Test("Gemini 2.5 Flash: cached content inside the prompt, thoughts billed as output")
    func geminiFlash() throws {
        let usage = try GeminiUsageMetadata(promptTokenCount: 1000, candidatesTokenCount: 200, cachedContentTokenCount: 600,
                                            thoughtsTokenCount: 300, toolUsePromptTokenCount: 50).normalized()
        let result = CostCalculator.cost(provider: .gemini, model: "models/gemini-2.5-flash", usage: usage, at: recent)
        // 2.5 Flash: input 0.30, cached 0.03, output 2.50
        //   (1000 − 600 + 50) × 0.30 = 0.000135; 600 × 0.03 = 0.000018; 200 × 2.50 = 0.0005; 300 × 2.50 = 0.00075
        #expect(pricedTotal(result) == usd("0.001403"))
    }

    // MARK: Long-context tiers

    @Test("Anthropic >200K prompt: the whole request is billed at the long-context tier")
    func anthropicLongContext() {
        // 150000 + 60000 = 210000 prompt tokens > 200000
        let long = TokenUsage(uncachedInput: 150_000, cacheRead: 60_000, output: 2_000)
        let result = CostCalculator.cost(provider: .anthropic, model: "claude-sonnet-4-5", usage: long, at: recent)
        // tier: input 6, cache read 0.60, output 22.50
        //   150000 × 6 = 0.9; 60000 × 0.60 = 0.036; 2000 × 22.50 = 0.045
        #expect(pricedTotal(result) == usd("0.981"))
        if case .priced(_, _, let price) = result { #expect(price.tier == .longContext) }

        // Exactly 200000 prompt tokens is not above the threshold: standard prices.
        let edge = TokenUsage(uncachedInput: 200_000, output: 1_000)
        // 200000 × 3 = 0.6; 1000 × 15 = 0.015
        #expect(pricedTotal(CostCalculator.cost(provider: .anthropic, model: "claude-sonnet-4-5", usage: edge, at: recent)) == usd("0.615"))
        // One more token crosses it: 200001 × 6 = 1.200006; 1000 × 22.50 = 0.0225
        let over = TokenUsage(uncachedInput: 200_001, output: 1_000)
        #expect(pricedTotal(CostCalculator.cost(provider: .anthropic, model: "claude-sonnet-4-5", usage: over, at: recent)) == usd("1.222506"))
    }

    @Test("Anthropic long-context threshold counts cache writes too")
    func anthropicThresholdIncludesWrites() {
        // 1000 + 199500 (1h writes) = 200500 > 200000
        let usage = TokenUsage(uncachedInput: 1_000, cacheWrite1h: 199_500, output: 100)
        let result = CostCalculator.cost(provider: .anthropic, model: "claude-sonnet-4-20250514", usage: usage, at: recent)
        // Sonnet 4 tier: input 6, 1h write 12, output 22.50
        //   1000 × 6 = 0.006; 199500 × 12 = 2.394; 100 × 22.50 = 0.00225
        #expect(pricedTotal(result) == usd("2.40225"))
    }

    @Test("Gemini 2.5 Pro >200K prompt, with cached content and thinking")
    func geminiProLongContext() throws {
        let usage = try GeminiUsageMetadata(promptTokenCount: 250_000, candidatesTokenCount: 1_000,
                                            cachedContentTokenCount: 50_000, thoughtsTokenCount: 4_000).normalized()
        let result = CostCalculator.cost(provider: .gemini, model: "gemini-2.5-pro", usage: usage, at: recent)
        // tier (> 200k): input 2.50, cached 0.25, output 15
        //   200000 × 2.50 = 0.5; 50000 × 0.25 = 0.0125; 1000 × 15 = 0.015; 4000 × 15 = 0.06
        #expect(pricedTotal(result) == usd("0.5875"))
        // Under the threshold: 100000 × 1.25 = 0.125; 1000 × 10 = 0.01
        let short = CostCalculator.cost(provider: .gemini, model: "gemini-2.5-pro",
                                        usage: TokenUsage(uncachedInput: 100_000, output: 1_000), at: recent)
        #expect(pricedTotal(short) == usd("0.135"))
    }

    // MARK: Batch

    @Test("batch: OpenAI halves every price, cached input included")
    func openAIBatch() {
        let usage = TokenUsage(uncachedInput: 10_000, cacheRead: 2_000, output: 1_000)
        let result = CostCalculator.cost(provider: .openai, model: "gpt-4.1-mini", usage: usage, at: recent, batch: true)
        // gpt-4.1-mini halved: input 0.20, cached 0.05, output 0.80
        //   10000 × 0.20 = 0.002; 2000 × 0.05 = 0.0001; 1000 × 0.80 = 0.0008
        #expect(pricedTotal(result) == usd("0.0029"))
        if case .priced(_, _, let price) = result { #expect(price.batch) }
    }

    @Test("batch: Gemini halves input and output but not context-cache reads, in both tiers")
    func geminiBatch() {
        let usage = TokenUsage(uncachedInput: 100_000, cacheRead: 20_000, output: 10_000)
        // 2.5 Pro batch ≤200k: input 0.625, cached 0.125, output 5
        //   100000 × 0.625 = 0.0625; 20000 × 0.125 = 0.0025; 10000 × 5 = 0.05
        #expect(pricedTotal(CostCalculator.cost(provider: .gemini, model: "gemini-2.5-pro", usage: usage, at: recent, batch: true)) == usd("0.115"))
        let long = TokenUsage(uncachedInput: 300_000, output: 1_000)
        // 2.5 Pro batch >200k: input 1.25, output 7.50 → 300000 × 1.25 = 0.375; 1000 × 7.50 = 0.0075
        #expect(pricedTotal(CostCalculator.cost(provider: .gemini, model: "gemini-2.5-pro", usage: long, at: recent, batch: true)) == usd("0.3825"))
    }

    @Test("batch: Anthropic's 50% applies on top of the long-context tier")
    func anthropicBatchLongContext() {
        let usage = TokenUsage(uncachedInput: 250_000, output: 1_000)
        // Sonnet 4 tier halved: input 6 × 0.5 = 3, output 22.50 × 0.5 = 11.25
        //   250000 × 3 = 0.75; 1000 × 11.25 = 0.01125
        let result = CostCalculator.cost(provider: .anthropic, model: "claude-sonnet-4-0", usage: usage, at: recent, batch: true)
        #expect(pricedTotal(result) == usd("0.76125"))
    }

    // MARK: Price history

    @Test("a price change applies from its date on, never before (o3 cut on 2025-06-10)")
    func priceChangeOnDate() {
        let usage = TokenUsage(uncachedInput: 1_000_000, output: 100_000)
        // Before: input 10, output 40 → 1000000 × 10 = 10; 100000 × 40 = 4
        let before = CostCalculator.cost(provider: .openai, model: "o3-2025-04-16", usage: usage, at: day("2025-06-10", plus: -1))
        #expect(pricedTotal(before) == usd("14"))
        // From 00:00 UTC on 2025-06-10: input 2, output 8 → 2 + 0.8
        let after = CostCalculator.cost(provider: .openai, model: "o3-2025-04-16", usage: usage, at: day("2025-06-10"))
        #expect(pricedTotal(after) == usd("2.8"))
        if case .priced(_, _, let price) = after { #expect(price.entry?.effectiveFrom.description == "2025-06-10") }
        // Before the first price: unpriced, not zero and not the later price.
        let tooEarly = CostCalculator.cost(provider: .openai, model: "o3", usage: usage, at: day("2025-04-15"))
        guard case .unpriced(let reason) = tooEarly else { Issue.record("priced before the first price"); return }
        #expect(reason.code == "no_price_in_force")
    }

    // MARK: Tenant overrides

    @Test("an override applies from its instant on, not before")
    func overrideNotRetroactive() throws {
        let start = day("2026-01-01", plus: 12 * 3600)
        let negotiated = try PriceOverride.parse(provider: "openai", model: "gpt-4o", effectiveFrom: start, prices: ["input": "2.00"])
        let usage = TokenUsage(uncachedInput: 1_000, cacheRead: 1_000, output: 1_000)
        // List: 1000 × 2.50 = 0.0025; 1000 × 1.25 = 0.00125; 1000 × 10 = 0.01
        let before = CostCalculator.cost(provider: .openai, model: "gpt-4o-2024-08-06", usage: usage,
                                         at: start.addingTimeInterval(-1), overrides: [negotiated])
        #expect(pricedTotal(before) == usd("0.01375"))
        // Override input 2.00: 1000 × 2.00 = 0.002; rest unchanged
        let after = CostCalculator.cost(provider: .openai, model: "gpt-4o-2024-08-06", usage: usage, at: start, overrides: [negotiated])
        #expect(pricedTotal(after) == usd("0.01325"))
        if case .priced(_, _, let price) = after { #expect(price.override == negotiated) }
        // A batch request derives its discount from the overridden price: 1000 × 1.00 = 0.001
        let batch = CostCalculator.cost(provider: .openai, model: "gpt-4o", usage: TokenUsage(uncachedInput: 1_000), at: start,
                                        batch: true, overrides: [negotiated])
        #expect(pricedTotal(batch) == usd("0.001"))
    }

    @Test("an override discount reduces every price; the latest override in force wins")
    func overrideDiscountAndLatestWins() throws {
        let older = try PriceOverride.parse(provider: "anthropic", model: "claude-haiku-4-5-20251001",
                                            effectiveFrom: day("2026-01-01"), discountPercent: "10")
        let newer = try PriceOverride.parse(provider: "anthropic", model: "claude-haiku-4-5",
                                            effectiveFrom: day("2026-06-01"), discountPercent: "20")
        let other = try PriceOverride.parse(provider: "anthropic", model: "claude-opus-4-1",
                                            effectiveFrom: day("2026-01-01"), discountPercent: "90")
        let usage = TokenUsage(uncachedInput: 1_000, output: 1_000)
        // 10% off Haiku 4.5: 1000 × 0.9 = 0.0009; 1000 × 4.5 = 0.0045
        let march = CostCalculator.cost(provider: .anthropic, model: "claude-haiku-4-5", usage: usage, at: day("2026-03-01"),
                                        overrides: [newer, older, other])
        #expect(pricedTotal(march) == usd("0.0054"))
        // 20% off from June: 1000 × 0.8 = 0.0008; 1000 × 4 = 0.004
        let july = CostCalculator.cost(provider: .anthropic, model: "claude-haiku-4-5", usage: usage, at: day("2026-07-01"),
                                       overrides: [newer, older, other])
        #expect(pricedTotal(july) == usd("0.0048"))
    }

    @Test("an override can set a separate reasoning price and a long-context price")
    func overrideReasoningAndTier() throws {
        let override = try PriceOverride.parse(provider: "openai", model: "gpt-5", effectiveFrom: day("2026-01-01"),
                                               prices: ["reasoning": "5"])
        // output 1000 × 10 = 0.01; reasoning 1000 × 5 = 0.005
        let result = CostCalculator.cost(provider: .openai, model: "gpt-5", usage: TokenUsage(output: 1_000, reasoning: 1_000),
                                         at: recent, overrides: [override])
        #expect(pricedTotal(result) == usd("0.015"))

        let tier = try PriceOverride.parse(provider: "gemini", model: "gemini-2.5-pro", effectiveFrom: day("2026-01-01"),
                                           longContextPrices: ["input": "2.00"])
        // > 200k with the tier input overridden: 300000 × 2.00 = 0.6; 1000 × 15 = 0.015
        let long = CostCalculator.cost(provider: .gemini, model: "gemini-2.5-pro", usage: TokenUsage(uncachedInput: 300_000, output: 1_000),
                                       at: recent, overrides: [tier])
        #expect(pricedTotal(long) == usd("0.615"))
    }

    @Test("an override prices a model the catalog does not list")
    func overrideForUnknownModel() throws {
        let custom = try PriceOverride.parse(provider: "openai", model: "ft:gpt-4o-mini-2024-07-18:acme::abc123",
                                             effectiveFrom: day("2026-01-01"), prices: ["input": "0.30", "output": "1.20"])
        let usage = TokenUsage(uncachedInput: 1_000, output: 500)
        // 1000 × 0.30 = 0.0003; 500 × 1.20 = 0.0006
        let result = CostCalculator.cost(provider: .openai, model: "ft:gpt-4o-mini-2024-07-18:acme::abc123", usage: usage,
                                         at: recent, overrides: [custom])
        #expect(pricedTotal(result) == usd("0.0009"))
        if case .priced(_, _, let price) = result { #expect(price.entry == nil) }
    }

    // MARK: Unpriced, never zero

    @Test("unknown and fine-tuned models are unpriced, with a reason")
    func unknownModels() {
        let usage = TokenUsage(uncachedInput: 1_000, output: 1_000)
        for (provider, model) in [(Provider.openai, "gpt-17"), (.openai, "ft:gpt-4o-mini-2024-07-18:acme::abc123"), (.openai, "o3-mini"),
                                  (.anthropic, "gpt-4o"), (.gemini, "text-embedding-004"), (.azureOpenAI, "o3")] {
            let result = CostCalculator.cost(provider: provider, model: model, usage: usage, at: recent)
            guard case .unpriced(let reason) = result else {
                Issue.record("\(provider.rawValue)/\(model) was priced: \(result)")
                continue
            }
            #expect(reason.code == "unknown_model")
            #expect(reason.description.contains(model))
            #expect(result.total == nil)
        }
    }

    @Test("tokens in a class without a price make the request unpriced")
    func missingClassPrice() {
        // gpt-4o-2024-05-13 lists no cached-input price.
        let cached = CostCalculator.cost(provider: .openai, model: "gpt-4o-2024-05-13", usage: TokenUsage(uncachedInput: 10, cacheRead: 10), at: recent)
        #expect(cached == .unpriced(.missingPrice(provider: .openai, model: "gpt-4o-2024-05-13", tokenClass: .cacheRead)))
        // An embedding model has no output price.
        let embedding = CostCalculator.cost(provider: .openai, model: "text-embedding-3-small", usage: TokenUsage(uncachedInput: 10, output: 1), at: recent)
        guard case .unpriced(let reason) = embedding else { Issue.record("priced"); return }
        #expect(reason.code == "missing_price")
        // OpenAI models have no cache-write price: Anthropic-style usage cannot be billed on them.
        let write = CostCalculator.cost(provider: .openai, model: "gpt-5", usage: TokenUsage(cacheWrite5m: 1), at: recent)
        #expect(write.total == nil)
    }

    @Test("embeddings are priced on input tokens")
    func embeddings() {
        // text-embedding-3-small 0.02: 1000000 × 0.02 = 0.02; gemini-embedding-001 0.15: 1000 × 0.15 = 0.00015
        #expect(pricedTotal(CostCalculator.cost(provider: .openai, model: "text-embedding-3-small",
                                                usage: TokenUsage(uncachedInput: 1_000_000), at: recent)) == usd("0.02"))
        #expect(pricedTotal(CostCalculator.cost(provider: .gemini, model: "gemini-embedding-001",
                                                usage: TokenUsage(uncachedInput: 1_000), at: recent)) == usd("0.00015"))
    }

    @Test("zero usage costs exactly zero on a known model; negative usage is refused")
    func zeroAndNegative() {
        #expect(pricedTotal(CostCalculator.cost(provider: .openai, model: "gpt-5", usage: .zero, at: recent)) == .zero)
        let negative = CostCalculator.cost(provider: .openai, model: "gpt-5", usage: TokenUsage(uncachedInput: -1), at: recent)
        guard case .unpriced(let reason) = negative else { Issue.record("priced"); return }
        #expect(reason.code == "invalid_usage")
    }

    @Test("Azure OpenAI prices by the model name the response reports, at the OpenAI list price")
    func azure() {
        let usage = TokenUsage(uncachedInput: 1_000, cacheRead: 1_000, output: 1_000)
        // gpt-4o-2024-11-20: 1000 × 2.50 = 0.0025; 1000 × 1.25 = 0.00125; 1000 × 10 = 0.01
        let result = CostCalculator.cost(provider: .azureOpenAI, model: "gpt-4o-2024-11-20", usage: usage, at: recent)
        #expect(pricedTotal(result) == usd("0.01375"))
        if case .priced(_, _, let price) = result { #expect(price.entry?.provider == .azureOpenAI) }
        // A deployment name is not a model name.
        #expect(CostCalculator.cost(provider: .azureOpenAI, model: "my-prod-deployment", usage: usage, at: recent).total == nil)
    }
}
