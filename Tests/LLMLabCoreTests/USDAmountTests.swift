import LLMLabCore
import Testing

@Suite("USDAmount")
struct USDAmountTests {
    @Test("parses exact decimals", arguments: [
        ("250", Int64(250_000_000), "250.00"),
        ("99.95", 99_950_000, "99.95"),
        ("0.000001", 1, "0.000001"),
        ("0", 0, "0.00"),
        ("007.5", 7_500_000, "7.50"),
        ("999999999.999999", 999_999_999_999_999, "999999999.999999"),
    ])
    func parses(_ text: String, _ micros: Int64, _ canonical: String) throws {
        let amount = try USDAmount.parse(text, field: "monthly_budget_usd")
        #expect(amount.micros == micros)
        #expect(amount.description == canonical)
    }

    @Test("rejects anything that is not a plain decimal", arguments: [
        "", "-1", "+1", "1e3", "1,000", "1.", ".5", "1.0000001", "abc", "1000000000", "0x10", " 1", "NaN",
    ])
    func rejects(_ text: String) {
        #expect(throws: ValidationError.self) { try USDAmount.parse(text, field: "monthly_budget_usd") }
    }

    @Test("0.1 + 0.2 is exactly 0.3")
    func exactSums() throws {
        let sum = try USDAmount.parse("0.1", field: "a").micros + USDAmount.parse("0.2", field: "b").micros
        #expect(USDAmount(micros: sum) == (try USDAmount.parse("0.3", field: "c")))
    }
}
