import Foundation
import LLMLabCore
import Testing

/// An exact USD amount from a decimal literal written in a test.
func usd(_ text: String) -> USDCost {
    do {
        return try USDCost.parse(text, field: "test")
    } catch {
        preconditionFailure("bad test literal \(text): \(error)")
    }
}

/// 00:00:00 UTC of a YYYY-MM-DD day, plus `seconds`.
func day(_ text: String, plus seconds: TimeInterval = 0) -> Date {
    guard let date = PriceDate.parse(text) else { preconditionFailure("bad test date \(text)") }
    return date.start.addingTimeInterval(seconds)
}

/// Decodes a wire JSON literal.
func decodeWire<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(json.utf8))
}

/// The total of a cost that must be priced; records an issue otherwise.
func pricedTotal(_ result: PricedCost, sourceLocation: SourceLocation = #_sourceLocation) -> USDCost? {
    guard case .priced(let total, let breakdown, _) = result else {
        Issue.record("expected a price, got \(result)", sourceLocation: sourceLocation)
        return nil
    }
    // The total is always the sum of its lines.
    #expect(breakdown.reduce(USDCost.zero) { $0 + $1.cost } == total, sourceLocation: sourceLocation)
    return total
}

/// A request time after every bundled price's effective date.
let recent = day("2026-11-29")
