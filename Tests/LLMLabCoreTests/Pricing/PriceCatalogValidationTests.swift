import Foundation
import LLMLabCore
import Testing

/// Small inline catalogs: what loads, what is refused and how the refusal reads.
@Suite("PriceCatalog validation")
struct PriceCatalogValidationTests {
    static let goodEntry = """
    {"provider": "openai", "model": "demo-1", "aliases": ["demo-1-2025-01-01"], "effective_from": "2025-01-01",
     "source": "https://example.com/pricing", "prices": {"input": "1.00", "cached_input": "0.10", "output": "4.00"},
     "batch": {"discount_percent": "50"}}
    """

    static func catalog(_ entries: String, version: String = "test-1") -> Data {
        Data(#"{"catalog_version": "\#(version)", "entries": [\#(entries)]}"#.utf8)
    }

    /// The problems a catalog is refused with (empty when it loads).
    static func problems(_ json: Data) -> [String] {
        do {
            _ = try PriceCatalog.load(json: json)
            return []
        } catch {
            return error.problems
        }
    }

    @Test("a minimal catalog loads and prices")
    func minimal() throws {
        let catalog = try PriceCatalog.load(json: Self.catalog(Self.goodEntry))
        #expect(catalog.version == "test-1")
        #expect(catalog.entries.count == 1)
        #expect(catalog.modelID(provider: .openai, name: "demo-1-2025-01-01") == "demo-1")
        let result = CostCalculator.cost(provider: .openai, model: "demo-1", usage: TokenUsage(uncachedInput: 1_000, output: 1_000),
                                         at: day("2025-02-01"), catalog: catalog)
        // 1000 × 1.00 = 0.001; 1000 × 4.00 = 0.004
        #expect(pricedTotal(result) == usd("0.005"))
    }

    @Test("several versions of one model: each request uses the version in force at its time")
    func versions() throws {
        let json = Self.catalog(Self.goodEntry + ", " + """
        {"provider": "openai", "model": "demo-1", "effective_from": "2025-03-01", "source": "https://example.com/pricing",
         "prices": {"input": "0.50", "output": "2.00"}}
        """)
        let catalog = try PriceCatalog.load(json: json)
        #expect(catalog.history(provider: .openai, model: "demo-1").map(\.effectiveFrom.description) == ["2025-01-01", "2025-03-01"])
        let usage = TokenUsage(uncachedInput: 1_000_000)
        #expect(pricedTotal(CostCalculator.cost(provider: .openai, model: "demo-1", usage: usage, at: day("2025-02-28", plus: 86_399), catalog: catalog)) == usd("1"))
        #expect(pricedTotal(CostCalculator.cost(provider: .openai, model: "demo-1", usage: usage, at: day("2025-03-01"), catalog: catalog)) == usd("0.5"))
        #expect(CostCalculator.cost(provider: .openai, model: "demo-1", usage: usage, at: day("2024-12-31"), catalog: catalog).total == nil)
        // The new version has no batch price: batch requests after the change are unpriced, not priced at the old rule.
        #expect(CostCalculator.cost(provider: .openai, model: "demo-1", usage: usage, at: day("2025-03-02"), batch: true, catalog: catalog).total == nil)
    }

    @Test("refused catalogs name the entry and field", arguments: [
        // (entry JSON, text the problem must contain)
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "prices": {"input": "1"}}"#, "source: is required"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "", "prices": {"input": "1"}}"#, "source: is required"),
        (#"{"provider": "openai", "model": "m", "source": "https://x", "prices": {"input": "1"}}"#, "effective_from: is required"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-13-01", "source": "https://x", "prices": {"input": "1"}}"#, "is not a YYYY-MM-DD date"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "-1.00"}}"#, "prices.input: must not be negative"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1", "output": "-0.5"}}"#, "prices.output: must not be negative"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1", "cached_inptu": "0.1"}}"#, "is not a price key"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"output": "1"}}"#, "prices.input: is required"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {}}"#, "prices: is required"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": 2.5}}"#, "JSON strings"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1"}, "pirces": {}}"#, "unknown key \"pirces\""),
        (#"{"provider": "mistral", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1"}}"#, "is not a provider"),
        (#"{"provider": "openai", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1"}}"#, "model: is required"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1"}, "batch": {"discount_percent": "50", "prices": {"input": "0.5"}}}"#, "exactly one of discount_percent or prices"),
        (#"{"provider": "openai", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1"}, "batch": {"discount_percent": "150"}}"#, "between 0 and 100"),
        (#"{"provider": "gemini", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1"}, "batch": {"prices": {"input": "0.5"}}, "long_context": {"threshold_prompt_tokens": 200000, "prices": {"input": "2"}}}"#, "long_context.batch: is required"),
        (#"{"provider": "gemini", "model": "m", "effective_from": "2025-01-01", "source": "https://x", "prices": {"input": "1"}, "long_context": {"prices": {"input": "2"}}}"#, "threshold_prompt_tokens: is required"),
    ])
    func refused(_ entry: String, _ expected: String) {
        let problems = Self.problems(Self.catalog(entry))
        #expect(!problems.isEmpty, "accepted: \(entry)")
        #expect(problems.contains { $0.contains(expected) }, "problems \(problems) do not mention \(expected)")
    }

    @Test("duplicate (provider, model, effective date) is refused")
    func duplicate() {
        let problems = Self.problems(Self.catalog(Self.goodEntry + ", " + Self.goodEntry))
        #expect(problems.contains { $0.contains("duplicate price for openai/demo-1 effective 2025-01-01") })
    }

    @Test("one name claimed by two models is refused; the same model on two providers is fine")
    func nameConflicts() {
        let conflict = """
        {"provider": "openai", "model": "demo-2", "aliases": ["demo-1-2025-01-01"], "effective_from": "2025-01-01",
         "source": "https://x", "prices": {"input": "1"}}
        """
        #expect(Self.problems(Self.catalog(Self.goodEntry + ", " + conflict)).contains { $0.contains("already belongs to openai/demo-1") })
        let twin = Self.goodEntry.replacingOccurrences(of: "\"openai\"", with: "\"azure_openai\"")
        #expect(Self.problems(Self.catalog(Self.goodEntry + ", " + twin)).isEmpty)
    }

    @Test("every problem is reported at once")
    func collectsAll() {
        let bad = """
        {"provider": "openai", "model": "a", "effective_from": "2025-01-01", "prices": {"input": "-1"}},
        {"provider": "openai", "model": "b", "effective_from": "someday", "source": "https://x", "prices": {"input": "1"}}
        """
        let problems = Self.problems(Self.catalog(bad, version: ""))
        #expect(problems.count >= 4, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("catalog_version") })
        #expect(problems.contains { $0.hasPrefix("entries[0]") && $0.contains("source") })
        #expect(problems.contains { $0.hasPrefix("entries[0]") && $0.contains("negative") })
        #expect(problems.contains { $0.hasPrefix("entries[1]") && $0.contains("someday") })
    }

    @Test("an empty or malformed file is refused")
    func structure() {
        #expect(!Self.problems(Data(#"{"catalog_version": "x", "entries": []}"#.utf8)).isEmpty)
        #expect(!Self.problems(Data(#"{"catalog_version": "x"}"#.utf8)).isEmpty)
        #expect(!Self.problems(Data("not json".utf8)).isEmpty)
        #expect(!Self.problems(Data(#"[1, 2]"#.utf8)).isEmpty)
    }

    @Test("catalogs built in code are checked too")
    func builtInCode() throws {
        let date = try #require(PriceDate.parse("2025-01-01"))
        let entry = PriceEntry(provider: .openai, model: "x", effectiveFrom: date, source: "https://x",
                               prices: PriceSheet(input: try TokenPrice.parse("1", field: "input")))
        #expect(throws: PriceCatalogError.self) { try PriceCatalog(version: "v", entries: [entry, entry]) }
        var sourceless = entry
        sourceless.source = ""
        #expect(throws: PriceCatalogError.self) { try PriceCatalog(version: "v", entries: [sourceless]) }
        #expect(throws: PriceCatalogError.self) { try PriceCatalog(version: "v", entries: []) }
        #expect(try PriceCatalog(version: "v", entries: [entry]).entries.count == 1)
    }
}
