import Foundation
public import LLMLabCore

/// Exact money text. Providers hand amounts over as JSON numbers ("0.06", "1.2e-05"),
/// decimal strings in cents (Anthropic) or CSV cells; all of them become plain decimal
/// USD text here and are added with ``USDCost`` (exact), never through `Double`.
public enum DecimalText {
    /// The finest fraction kept: pico-dollars, like the usage tables. Amounts reported
    /// with more digits (a float printed at full precision) are rounded half to even.
    public static let places = 12

    /// A plain decimal ("-12.5", "0.000012") from number text that may carry a sign and an
    /// exponent ("1.2e-05", "+3", "5E2"); nil when it is not a number.
    public static func plain(_ text: some StringProtocol) -> String? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            var expText = s[s.index(after: e)...]
            var expNegative = false
            if expText.first == "-" { expNegative = true; expText = expText.dropFirst() } else if expText.first == "+" { expText = expText.dropFirst() }
            guard !expText.isEmpty, expText.count <= 4, expText.allSatisfy(\.isASCIIDigitCharacter), let value = Int(expText) else { return nil }
            exponent = expNegative ? -value : value
            s = s[..<e]
        }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(\.isASCIIDigitCharacter),
              fraction.allSatisfy(\.isASCIIDigitCharacter), parts.count == 1 || !fraction.isEmpty || !whole.isEmpty
        else { return nil }
        var digits = String(whole) + String(fraction)
        var pointIndex = whole.count + exponent  // digits before the point
        if pointIndex < 0 {
            digits = String(repeating: "0", count: -pointIndex) + digits
            pointIndex = 0
        }
        if pointIndex > digits.count { digits += String(repeating: "0", count: pointIndex - digits.count) }
        var integer = String(digits.prefix(pointIndex)).drop(while: { $0 == "0" })
        var fractional = Substring(digits.dropFirst(pointIndex))
        while fractional.last == "0" { fractional = fractional.dropLast() }
        if integer.isEmpty { integer = "0" }
        let body = fractional.isEmpty ? String(integer) : "\(integer).\(fractional)"
        return negative && body != "0" ? "-" + body : body
    }

    /// `text` divided by 100, exactly: Anthropic reports amounts in cents ("123.45" → "1.2345").
    public static func centsToUSD(_ text: some StringProtocol) -> String? {
        guard let value = plain(text) else { return nil }
        return plain(value + "e-2")
    }

    /// The exact amount of plain or exponent decimal text (sign allowed), rounded to
    /// ``places`` decimals when it has more.
    public static func cost(_ text: some StringProtocol) -> USDCost? {
        guard var value = plain(text) else { return nil }
        let negative = value.hasPrefix("-")
        if negative { value.removeFirst() }
        // USDCost parses at most 18 decimals; digits past that cannot change a rounding to 12
        // except for an exact tie, which full-precision floats never produce.
        if let point = value.firstIndex(of: "."), value.distance(from: point, to: value.endIndex) - 1 > 18 {
            value = String(value[..<value.index(point, offsetBy: 19)])
        }
        guard let magnitude = try? USDCost.parse(value, field: "amount") else { return nil }
        let rounded = magnitude.rounded(toPlaces: places)
        return negative ? .zero - rounded : rounded
    }

    /// The exact sum of decimal texts, as canonical text ("0" when empty). Texts that are
    /// not numbers count as zero; callers validate before summing.
    public static func sum(_ texts: [String]) -> String {
        var total = USDCost.zero
        for text in texts { if let value = cost(text) { total += value } }
        return total.description
    }

    /// Canonical text of one amount, or nil.
    public static func canonical(_ text: some StringProtocol) -> String? {
        cost(text)?.description
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && ("0"..."9").contains(self) }
}
