import Foundation
import LLMLabCore
import Testing

@Suite("PriceOverride")
struct PriceOverrideTests {
    @Test("parses request fields")
    func parses() throws {
        let override = try PriceOverride.parse(provider: "azure_openai", model: "gpt-4o", effectiveFrom: day("2027-01-01"),
                                               prices: ["input": "2.25", "cached_input": "1.125"],
                                               longContextPrices: [:], discountPercent: "5")
        #expect(override.provider == .azureOpenAI)
        #expect(override.prices.input?.description == "2.25")
        #expect(override.prices.cachedInput?.description == "1.125")
        #expect(override.prices.output == nil)
        #expect(override.discount?.description == "5")
    }

    @Test("bad fields are named", arguments: [
        ("openai", "gpt-4o", ["inptu": "1"], nil as String?, "prices.inptu"),
        ("openai", "gpt-4o", ["input": "-1"], nil, "prices.input"),
        ("openai", "gpt-4o", ["input": "1,5"], nil, "prices.input"),
        ("openai", "gpt-4o", [:], "120", "discount_percent"),
        ("openai", "gpt-4o", [:], nil, "prices"),
        ("openai", "  ", ["input": "1"], nil, "model"),
        ("cohere", "command", ["input": "1"], nil, "provider"),
    ])
    func rejects(_ provider: String, _ model: String, _ prices: [String: String], _ discount: String?, _ field: String) {
        do {
            _ = try PriceOverride.parse(provider: provider, model: model, effectiveFrom: day("2027-01-01"),
                                        prices: prices, discountPercent: discount)
            Issue.record("accepted \(prices) \(String(describing: discount))")
        } catch let error as ValidationError {
            #expect(error.field == field)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("an override may not start in the past")
    func notRetroactive() throws {
        let now = day("2026-11-29", plus: 3600)
        let past = try PriceOverride.parse(provider: "openai", model: "gpt-4o", effectiveFrom: now.addingTimeInterval(-3600),
                                           prices: ["input": "1"])
        #expect(throws: ValidationError.self) { try past.checkNotRetroactive(now: now) }
        let future = try PriceOverride.parse(provider: "openai", model: "gpt-4o", effectiveFrom: now.addingTimeInterval(60),
                                             prices: ["input": "1"])
        try future.checkNotRetroactive(now: now)
        // A request sent a moment ago (clock skew) is within the grace period.
        let justNow = try PriceOverride.parse(provider: "openai", model: "gpt-4o", effectiveFrom: now.addingTimeInterval(-30),
                                              prices: ["input": "1"])
        try justNow.checkNotRetroactive(now: now)
    }

    @Test("a day-granular override starts at 00:00 UTC of its day")
    func dayGranular() throws {
        let start = try #require(PriceDate.parse("2027-03-01"))
        let override = PriceOverride(provider: .openai, model: "gpt-4.1", effectiveFrom: start,
                                     prices: PriceSheet(output: try TokenPrice.parse("6", field: "output")))
        #expect(override.effectiveFrom == day("2027-03-01"))
        let usage = TokenUsage(output: 1_000_000)
        // List output 8 the second before; 6 from midnight.
        #expect(pricedTotal(CostCalculator.cost(provider: .openai, model: "gpt-4.1", usage: usage, at: day("2027-03-01", plus: -1),
                                                overrides: [override])) == usd("8"))
        #expect(pricedTotal(CostCalculator.cost(provider: .openai, model: "gpt-4.1", usage: usage, at: day("2027-03-01"),
                                                overrides: [override])) == usd("6"))
    }

    @Test("an override for another model or provider does not apply")
    func scoped() throws {
        let usage = TokenUsage(uncachedInput: 1_000_000)
        let overrides = [
            try PriceOverride.parse(provider: "azure_openai", model: "gpt-4o", effectiveFrom: day("2026-01-01"), prices: ["input": "0.01"]),
            try PriceOverride.parse(provider: "openai", model: "gpt-4o-mini", effectiveFrom: day("2026-01-01"), prices: ["input": "0.01"]),
        ]
        // openai gpt-4o list price: 1000000 × 2.50 = 2.5
        #expect(pricedTotal(CostCalculator.cost(provider: .openai, model: "gpt-4o", usage: usage, at: recent, overrides: overrides)) == usd("2.5"))
    }
}
