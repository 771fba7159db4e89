/// A base-10 number held as `coefficient × 10^-scale` with an `Int128` coefficient.
///
/// Pricing only ever adds, multiplies and shifts by powers of ten, and all three are exact
/// in this representation, so a cost is never rounded until someone asks for a display
/// string. Values are normalised (no trailing zeros in the coefficient), so equal numbers
/// are equal and hash alike whatever text they were parsed from ("2.50" == "2.5").
///
/// Arithmetic traps on `Int128` overflow, like Swift integers do. That needs more than
/// 10^20 USD at 18 decimals, far beyond any bill; a trap is preferable to a wrong amount.
struct ExactDecimal: Sendable, Hashable, Comparable {
    /// The digits, with the sign.
    let coefficient: Int128
    /// How many of the digits are after the decimal point (≥ 0).
    let scale: Int

    static let zero = ExactDecimal(coefficient: 0, scale: 0)

    /// The largest number of fractional digits `parse` accepts; far finer than any price.
    static let maximumParsedScale = 18

    init(coefficient: Int128, scale: Int) {
        precondition(scale >= 0 && scale <= 38, "ExactDecimal scale \(scale) out of range")
        var coefficient = coefficient
        var scale = scale
        while scale > 0, coefficient % 10 == 0 {
            coefficient /= 10
            scale -= 1
        }
        self.coefficient = coefficient
        self.scale = scale
    }

    init(_ integer: Int) {
        self.init(coefficient: Int128(integer), scale: 0)
    }

    /// Parses plain decimal text: optional `-`, digits, optional `.` and digits
    /// ("2.50", "0.075", "10", "-1.5"). No `+`, exponent, separators, spaces, or a bare
    /// leading/trailing point. Returns nil for anything else.
    static func parse(_ text: some StringProtocol) -> ExactDecimal? {
        var bytes = Substring(text).utf8[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(isDigit) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : whole[whole.endIndex...]
        guard parts.count == 1 || !fraction.isEmpty, fraction.allSatisfy(isDigit),
              fraction.count <= maximumParsedScale
        else { return nil }
        let significantWhole = whole.drop(while: { $0 == UInt8(ascii: "0") })
        guard significantWhole.count + fraction.count <= 36 else { return nil }
        var coefficient: Int128 = 0
        for digit in significantWhole { coefficient = coefficient * 10 + Int128(digit - UInt8(ascii: "0")) }
        for digit in fraction { coefficient = coefficient * 10 + Int128(digit - UInt8(ascii: "0")) }
        return ExactDecimal(coefficient: negative ? -coefficient : coefficient, scale: fraction.count)
    }

    var isNegative: Bool { coefficient < 0 }
    var isZero: Bool { coefficient == 0 }

    /// This value divided by 10^places, exactly.
    func shiftedRight(by places: Int) -> ExactDecimal {
        ExactDecimal(coefficient: coefficient, scale: scale + places)
    }

    /// This value expressed with exactly `targetScale` fractional digits (`targetScale ≥ scale`).
    func coefficient(atScale targetScale: Int) -> Int128 {
        precondition(targetScale >= scale)
        return Self.multiplyChecked(coefficient, Self.powerOfTen(targetScale - scale))
    }

    static func + (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        let scale = max(lhs.scale, rhs.scale)
        let (sum, overflow) = lhs.coefficient(atScale: scale).addingReportingOverflow(rhs.coefficient(atScale: scale))
        precondition(!overflow, "ExactDecimal addition overflowed")
        return ExactDecimal(coefficient: sum, scale: scale)
    }

    static prefix func - (value: ExactDecimal) -> ExactDecimal {
        ExactDecimal(coefficient: -value.coefficient, scale: value.scale)
    }

    static func - (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal { lhs + (-rhs) }

    static func * (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        ExactDecimal(coefficient: multiplyChecked(lhs.coefficient, rhs.coefficient), scale: lhs.scale + rhs.scale)
    }

    static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        return lhs.coefficient(atScale: scale) < rhs.coefficient(atScale: scale)
    }

    /// Rounded to `places` fractional digits, ties to even (banker's rounding), so that
    /// rounding many amounts does not drift upwards.
    func rounded(toPlaces places: Int) -> ExactDecimal {
        precondition(places >= 0)
        guard scale > places else { return self }
        let divisor = Self.powerOfTen(scale - places)
        var quotient = coefficient / divisor
        let remainder = coefficient % divisor
        let twiceRemainder = remainder.magnitude * 2
        if twiceRemainder > divisor.magnitude || (twiceRemainder == divisor.magnitude && quotient % 2 != 0) {
            quotient += coefficient < 0 ? -1 : 1
        }
        return ExactDecimal(coefficient: quotient, scale: places)
    }

    /// Every significant digit, no exponent: "0.000000075", "10", "-2.5".
    var plainText: String { text(minimumPlaces: 0) }

    /// The digits with at least `minimumPlaces` fractional digits (zero-padded).
    func text(minimumPlaces: Int) -> String {
        let places = max(scale, minimumPlaces)
        var digits = String(coefficient(atScale: places).magnitude)
        if places > 0 {
            if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
        }
        return (coefficient < 0 ? "-" : "") + digits
    }

    static func powerOfTen(_ exponent: Int) -> Int128 {
        precondition(exponent >= 0 && exponent <= 38, "10^\(exponent) does not fit Int128")
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    private static func multiplyChecked(_ lhs: Int128, _ rhs: Int128) -> Int128 {
        let (product, overflow) = lhs.multipliedReportingOverflow(by: rhs)
        precondition(!overflow, "ExactDecimal multiplication overflowed")
        return product
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
