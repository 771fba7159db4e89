import Foundation
import LLMLabCore
import Testing

@Suite("USDCost, TokenPrice, DiscountPercent")
struct USDCostTests {
    @Test("parses decimal text exactly and prints it without trailing zeros", arguments: [
        ("2.50", "2.5"),
        ("0.075", "0.075"),
        ("10", "10"),
        ("10.00", "10"),
        ("0", "0"),
        ("0.000", "0"),
        ("007.50", "7.5"),
        ("0.000000075", "0.000000075"),
        ("0.000000000000000001", "0.000000000000000001"),
        ("123456789012.123456", "123456789012.123456"),
    ])
    func parses(_ text: String, _ canonical: String) throws {
        let cost = try USDCost.parse(text, field: "price")
        #expect(cost.description == canonical)
        #expect(try USDCost.parse(canonical, field: "price") == cost)
    }

    @Test("rejects anything that is not a plain non-negative decimal", arguments: [
        "", "-1", "-0.5", "+1", "1e3", "1E-3", "1,000", "1.", ".5", "abc", " 1", "1 ", "NaN", "inf", "1..2", "0x10", "1.2.3",
        "0.0000000000000000001", // 19 decimals
    ])
    func rejects(_ text: String) {
        #expect(throws: ValidationError.self) { try USDCost.parse(text, field: "price") }
    }

    @Test("a negative amount is named as negative, with the field")
    func negativeMessage() {
        do {
            _ = try USDCost.parse("-1.00", field: "prices.input")
            Issue.record("accepted a negative amount")
        } catch let error as ValidationError {
            #expect(error.field == "prices.input")
            #expect(error.reason.contains("negative"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("$0.075 per million tokens × 1 token is exactly 75,000 pico-dollars")
    func onePerMillionToken() throws {
        let price = try TokenPrice.parse("0.075", field: "cached_input")
        let cost = price.cost(forTokens: 1)
        #expect(cost == usd("0.000000075"))
        #expect(cost.picoUSD == 75_000)
        #expect(cost == USDCost(picoUSD: 75_000))
    }

    @Test("token costs multiply exactly")
    func tokenCosts() throws {
        let price = try TokenPrice.parse("2.50", field: "input")
        #expect(price.cost(forTokens: 1_000_000) == usd("2.5"))
        #expect(price.cost(forTokens: 3) == usd("0.0000075"))
        #expect(price.cost(forTokens: 0) == .zero)
        // 7 tokens at $0.0328125/M = 0.0000002296875, finer than a pico-dollar, still exact.
        let fine = try TokenPrice.parse("0.0328125", field: "input")
        #expect(fine.cost(forTokens: 7) == usd("0.0000002296875"))
        #expect(fine.cost(forTokens: 7).picoUSD == nil)
    }

    @Test("sums are exact: 0.1 + 0.2 == 0.3, and 100,000 tiny lines add up exactly")
    func sums() {
        #expect(usd("0.1") + usd("0.2") == usd("0.3"))
        var total = USDCost.zero
        let tiny = usd("0.000000075")
        for _ in 0..<100_000 { total += tiny }
        #expect(total == usd("0.0075"))
        #expect(usd("1.25") * 4 == usd("5"))
        #expect(usd("0.3") - usd("0.1") == usd("0.2"))
        #expect(usd("0.01") < usd("0.1"))
        #expect(usd("2.50") == usd("2.5"))
        #expect(Set([usd("2.50"), usd("2.5")]).count == 1)
    }

    @Test("display rounding is half to even", arguments: [
        ("0.125", 2, "0.12"),
        ("0.135", 2, "0.14"),
        ("0.005", 2, "0.00"),
        ("0.015", 2, "0.02"),
        ("0.0151", 2, "0.02"),
        ("2.5", 0, "2"),
        ("3.5", 0, "4"),
        ("1", 6, "1.000000"),
        ("0.000000075", 6, "0.000000"),
        ("0.0000005", 6, "0.000000"),
        ("0.0000015", 6, "0.000002"),
        ("1234.5678", 2, "1234.57"),
        ("0", 2, "0.00"),
    ])
    func formatting(_ text: String, _ places: Int, _ expected: String) {
        #expect(usd(text).formatted(places: places) == expected)
        #expect(usd(text).rounded(toPlaces: places) == usd(expected))
    }

    @Test("micro-dollar and pico-dollar views")
    func units() {
        #expect(USDCost(microUSD: 1) == usd("0.000001"))
        #expect(usd("1.5").picoUSD == 1_500_000_000_000)
        #expect(usd("0.0000000000001").picoUSD == nil)
    }

    @Test("encodes as a decimal string, never a JSON number")
    func codable() throws {
        let data = try JSONEncoder().encode(["cost": usd("0.000000075")])
        #expect(String(decoding: data, as: UTF8.self) == #"{"cost":"0.000000075"}"#)
        let decoded = try JSONDecoder().decode([String: USDCost].self, from: data)
        #expect(decoded["cost"] == usd("0.000000075"))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([String: USDCost].self, from: Data(#"{"cost":0.5}"#.utf8)) }
    }

    @Test("discounts are exact and bounded to 0–100%")
    func discounts() throws {
        let price = try TokenPrice.parse("0.0375", field: "input")
        // 12.5% off $0.0375 = 0.0375 × 0.875 = 0.0328125
        #expect(try DiscountPercent.parse("12.5", field: "discount_percent").apply(to: price).usdPerMillionTokens == usd("0.0328125"))
        #expect(try DiscountPercent.parse("50", field: "d").apply(to: price).usdPerMillionTokens == usd("0.01875"))
        #expect(try DiscountPercent.parse("100", field: "d").apply(to: price).usdPerMillionTokens == .zero)
        #expect(try DiscountPercent.parse("0", field: "d").apply(to: price) == price)
        for bad in ["101", "-5", "", "50%", "abc"] {
            #expect(throws: ValidationError.self, "\(bad)") { try DiscountPercent.parse(bad, field: "discount_percent") }
        }
    }

    @Test("price dates are UTC calendar days")
    func priceDates() throws {
        let date = try #require(PriceDate.parse("2025-06-10"))
        #expect(date.description == "2025-06-10")
        #expect(date.start == Date(timeIntervalSince1970: 1_749_513_600))
        #expect(PriceDate(containing: date.start.addingTimeInterval(86_399)) == date)
        #expect(PriceDate(containing: date.start.addingTimeInterval(-1)).description == "2025-06-09")
        #expect(PriceDate.parse("2024-02-29") != nil)
        #expect(PriceDate.parse("1970-01-01")?.daysSinceEpoch == 0)
        for bad in ["2025-02-29", "2025-13-01", "2025-00-10", "2025-6-10", "25-06-10", "2025/06/10", "2025-06-10T00:00:00Z", ""] {
            #expect(PriceDate.parse(bad) == nil, "\(bad)")
        }
    }
}
