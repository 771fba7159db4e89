import LLMLabBilling
import Testing

@Suite("Billing decimals, days and JSON")
struct DecimalAndDayTests {
    @Test("JSON number text becomes exact plain decimals, exponents included")
    func plain() {
        #expect(DecimalText.plain("0.06") == "0.06")
        #expect(DecimalText.plain("1.2e-05") == "0.000012")
        #expect(DecimalText.plain("5E2") == "500")
        #expect(DecimalText.plain("-0.50") == "-0.5")
        #expect(DecimalText.plain("+3") == "3")
        #expect(DecimalText.plain("007.100") == "7.1")
        #expect(DecimalText.plain("-0") == "0")
        #expect(DecimalText.plain("1,5") == nil)
        #expect(DecimalText.plain("abc") == nil)
        #expect(DecimalText.plain("1e") == nil)
        #expect(DecimalText.plain("") == nil)
    }

    @Test("Anthropic cents convert to USD exactly")
    func cents() {
        #expect(DecimalText.centsToUSD("12345.6789") == "123.456789")
        #expect(DecimalText.centsToUSD("5") == "0.05")
        #expect(DecimalText.centsToUSD("0.001") == "0.00001")
        #expect(DecimalText.centsToUSD("-0.5") == "-0.005")
        #expect(DecimalText.centsToUSD("100") == "1")
        #expect(DecimalText.centsToUSD("123.78912") == "1.2378912")
        // A value no binary float holds exactly stays exact.
        #expect(DecimalText.centsToUSD("0.1") == "0.001")
        #expect(DecimalText.sum(["0.1", "0.2"]) == "0.3")
    }

    @Test("sums are exact, keep 12 decimals, and allow credits")
    func sums() {
        #expect(DecimalText.sum([]) == "0")
        #expect(DecimalText.sum(["10", "-2.5", "0.000000000001"]) == "7.500000000001")
        #expect(DecimalText.canonical("0.0000000000004") == "0")
        #expect(DecimalText.canonical("0.0000000000006") == "0.000000000001")
        #expect(DecimalText.canonical("0.060000000000000005") == "0.06")
    }

    @Test("UTC days parse, print and convert")
    func days() throws {
        let day = try #require(BillingDay.parse("2026-03-01"))
        #expect(day.description == "2026-03-01")
        #expect(day.unixSeconds == 1_772_323_200)
        #expect(BillingDay(unixSeconds: 1_772_323_200 + 86_399) == day)
        #expect(BillingDay.parse("2026-03-01T12:00:00Z") == day)
        #expect(BillingDay.parse("2026-03-01 23:59:59 UTC") == day)
        #expect(BillingDay.parseCompact("20260301") == day)
        #expect(BillingDay.parse("2026-02-29") == nil)
        #expect(BillingDay.parse("2024-02-29") != nil)
        #expect(BillingDay.parse("2026-13-01") == nil)
        #expect(BillingDay.parse("2026-03-01x") == nil)
        #expect(day.adding(days: -1).description == "2026-02-28")
        #expect(BillingDay(year: 1970, month: 1, day: 1).ordinal == 0)
        #expect(BillingDay(unixSeconds: -1).description == "1969-12-31")
    }

    @Test("the JSON reader keeps numbers as text")
    func json() throws {
        let json = try BillingJSON.parse(Array(#"{"a": [0.06, 1.2e-05, -3], "b": "x\u00e9\n", "c": null, "d": true}"#.utf8))
        #expect(json["a"]?.arrayValue?.compactMap(\.numberText) == ["0.06", "1.2e-05", "-3"])
        #expect(json.string("b") == "xé\n")
        #expect(json["c"]?.isNull == true)
        #expect(json["d"]?.boolValue == true)
        #expect(throws: BillingError.self) { try BillingJSON.parse(Array("{\"a\": 01x}".utf8)) }
        #expect(throws: BillingError.self) { try BillingJSON.parse(Array("[1,]".utf8)) }
    }

    @Test("billing names map onto catalog model ids")
    func attribution() {
        let attribution = ModelAttribution.bundled
        #expect(attribution.openAILineItem("gpt-4o-2024-08-06, input") == "gpt-4o")
        #expect(attribution.openAILineItem("gpt-4o-mini-2024-07-18, cached input") == "gpt-4o-mini")
        #expect(attribution.openAILineItem("Web search tool calls") == "")
        #expect(attribution.model(provider: "anthropic", name: "claude-sonnet-4-20250514") == "claude-sonnet-4-0")
        #expect(attribution.mentionedModel(provider: "azure_openai", text: "gpt-4o-mini-0718-Inp-glbl 1M Tokens") == "gpt-4o-mini")
        #expect(attribution.mentionedModel(provider: "azure_openai", text: "gpt 4o 0806 Outp glbl Tokens") == "gpt-4o")
        #expect(attribution.mentionedModel(provider: "gemini", text: "Gemini 2.5 Flash Lite Input Text") == "gemini-2.5-flash-lite")
        #expect(attribution.mentionedModel(provider: "gemini", text: "Gemini 2.5 Flash Input Text") == "gemini-2.5-flash")
        #expect(attribution.mentionedModel(provider: "gemini", text: "Imagen 3 image generation") == "")
    }
}
