import Foundation
import LLMLabCore
import Testing

/// The catalog shipped in the binary: it loads, every entry is sourced, it covers the
/// models the proxy serves, and names resolve the way providers report them.
@Suite("Bundled price catalog")
struct BundledCatalogTests {
    let catalog = PriceCatalog.bundled

    @Test("loads, is versioned, and every entry has an https source and an effective date")
    func loads() {
        #expect(!catalog.version.isEmpty)
        #expect(catalog.entries.count >= 30)
        for entry in catalog.entries {
            #expect(entry.source.hasPrefix("https://"), "\(entry.label)")
            #expect(entry.prices.input != nil, "\(entry.label)")
        }
    }

    @Test("covers the current models of every provider", arguments: [
        (Provider.openai, ["gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini",
                           "o3", "o4-mini", "o1", "text-embedding-3-small", "text-embedding-3-large"]),
        (.azureOpenAI, ["gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini",
                        "o4-mini", "o1", "text-embedding-3-small", "text-embedding-3-large"]),
        (.anthropic, ["claude-opus-4-1", "claude-opus-4-0", "claude-sonnet-4-5", "claude-sonnet-4-0", "claude-haiku-4-5", "claude-3-5-haiku"]),
        (.gemini, ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash", "gemini-embedding-001"]),
    ])
    func coverage(_ provider: Provider, _ models: [String]) {
        for model in models {
            #expect(catalog.entry(provider: provider, model: model, at: recent) != nil, "\(provider.rawValue)/\(model)")
        }
    }

    @Test("provider-reported names resolve to catalog models", arguments: [
        (Provider.openai, "gpt-4o-2024-08-06", "gpt-4o"),
        (.openai, "gpt-4o-2024-11-20", "gpt-4o"),
        (.openai, "gpt-4o-2099-01-01", "gpt-4o"),          // an unlisted dated snapshot falls back to its base
        (.openai, "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"), // a snapshot with its own price is never its base
        (.openai, "GPT-4o", "gpt-4o"),
        (.openai, "gpt-5-mini-2025-08-07", "gpt-5-mini"),   // not gpt-5
        (.openai, "o3-2025-04-16", "o3"),
        (.azureOpenAI, "gpt-4.1-2025-04-14", "gpt-4.1"),
        (.anthropic, "claude-sonnet-4-20250514", "claude-sonnet-4-0"),
        (.anthropic, "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        (.anthropic, "claude-opus-4-1-20250805", "claude-opus-4-1"),
        (.anthropic, "claude-3-5-haiku-latest", "claude-3-5-haiku"),
        (.gemini, "models/gemini-2.5-pro", "gemini-2.5-pro"),
        (.gemini, "gemini-2.0-flash-001", "gemini-2.0-flash"),
    ])
    func resolves(_ provider: Provider, _ name: String, _ model: String) {
        #expect(catalog.modelID(provider: provider, name: name) == model)
    }

    @Test("names that must not resolve", arguments: [
        (Provider.openai, "gpt-4"), (.openai, "o3-mini"), (.openai, "o3-pro"), (.openai, "gpt-5-pro"),
        (.openai, "ft:gpt-4o-mini-2024-07-18:acme::abc123"), (.openai, "claude-sonnet-4-5"),
        (.anthropic, "claude-sonnet-4"), (.gemini, "gemini-2.5-flash-preview-09-2025"), (.gemini, "text-embedding-004"),
        (.azureOpenAI, "o3"), (.openai, ""),
    ])
    func doesNotResolve(_ provider: Provider, _ name: String) {
        #expect(catalog.modelID(provider: provider, name: name) == nil)
    }

    @Test("published numbers are carried exactly")
    func spotChecks() throws {
        let sonnet = try #require(catalog.entry(provider: .anthropic, model: "claude-sonnet-4-5", at: recent))
        #expect(sonnet.prices.input?.description == "3")
        #expect(sonnet.prices.cacheWrite5m?.description == "3.75")
        #expect(sonnet.prices.cacheWrite1h?.description == "6")
        #expect(sonnet.prices.cachedInput?.description == "0.3")
        #expect(sonnet.prices.output?.description == "15")
        #expect(sonnet.longContext?.thresholdPromptTokens == 200_000)
        #expect(sonnet.longContext?.prices.output?.description == "22.5")
        let pro = try #require(catalog.entry(provider: .gemini, model: "gemini-2.5-pro", at: recent))
        #expect(pro.longContext?.prices.input?.description == "2.5")
        guard case .prices(let batch)? = pro.batch else { Issue.record("gemini batch should be explicit"); return }
        #expect(batch.cachedInput == pro.prices.cachedInput)
        #expect(catalog.history(provider: .openai, model: "o3").map(\.effectiveFrom.description) == ["2025-04-16", "2025-06-10"])
    }
}
