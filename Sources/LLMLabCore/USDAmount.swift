/// An exact, non-negative amount of US dollars with at most six fractional digits, held
/// as integer micro-dollars. Budgets use it; no floating point ever touches money.
public struct USDAmount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Micro-dollars (1 USD = 1,000,000).
    public let micros: Int64

    public init(micros: Int64) { self.micros = micros }

    public static let maximumMicros: Int64 = 999_999_999_999_999  // < 10^9 USD, fits NUMERIC(20,6)

    /// Parses "250", "99.95", "0.000001". Rejects signs, exponents, separators and more
    /// than six fractional digits, naming `field` in the error.
    public static func parse(_ text: String, field: String) throws -> USDAmount {
        let example = "use a decimal number of US dollars with at most 6 decimals, e.g. \"250\" or \"99.95\""
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, parts.count <= 2,
              let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit)
        else { throw ValidationError(field: field, reason: "\"\(Validate.preview(text))\" is not an amount; \(example)") }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else {
            throw ValidationError(field: field, reason: "\"\(Validate.preview(text))\" is not an amount; \(example)")
        }
        guard fraction.count <= 6 else {
            throw ValidationError(field: field, reason: "has more than 6 decimals; \(example)")
        }
        fraction += String(repeating: "0", count: 6 - fraction.count)
        let digits = whole.drop(while: { $0 == "0" })
        guard digits.count <= 9, let dollars = Int64(digits.isEmpty ? "0" : String(digits)),
              let micros = Int64(fraction)
        else { throw ValidationError(field: field, reason: "must be less than 1,000,000,000 USD") }
        return USDAmount(micros: dollars * 1_000_000 + micros)
    }

    /// Canonical decimal text with at least two decimals: "250.00", "99.95", "0.000001".
    public var description: String {
        let dollars = micros / 1_000_000
        var fraction = String(micros % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(dollars).\(fraction)"
    }

    public static func < (lhs: USDAmount, rhs: USDAmount) -> Bool { lhs.micros < rhs.micros }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) && isASCII }
}
