/// An exact amount of US dollars: what a request cost, or a line of that cost.
///
/// LLM prices are fractions of a cent per token ($0.075 per million tokens is 0.000000075
/// USD a token), and a bill is the sum of millions of them, so a cost keeps every decimal
/// until it is displayed. It is never a floating-point number: sums and products are
/// exact, and rounding happens only in ``formatted(places:)`` / ``rounded(toPlaces:)``,
/// half to even. ``description`` is the full-precision decimal text, suitable for a
/// PostgreSQL `NUMERIC` column and for the `x-llmlab-cost-usd` header.
///
/// Budgets use ``USDAmount`` (micro-dollars); a cost converts with ``USDAmount`` only after
/// rounding, which is the caller's explicit choice.
public struct USDCost: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    let value: ExactDecimal

    init(_ value: ExactDecimal) { self.value = value }

    public static let zero = USDCost(.zero)

    /// An amount in pico-dollars (10^-12 USD): `USDCost(picoUSD: 75_000)` is $0.000000075.
    public init(picoUSD: Int128) {
        self.init(ExactDecimal(coefficient: picoUSD, scale: 12))
    }

    /// An amount in micro-dollars, the unit of ``USDAmount``.
    public init(microUSD: Int64) {
        self.init(ExactDecimal(coefficient: Int128(microUSD), scale: 6))
    }

    /// The amount in whole pico-dollars, or nil when it has finer digits than that.
    public var picoUSD: Int128? {
        value.scale <= 12 ? value.coefficient(atScale: 12) : nil
    }

    /// Parses a non-negative decimal amount: "2.50", "0.075", "10", "0.000000075" (at most
    /// 18 decimals). Rejects signs, exponents, separators and spaces, naming `field`.
    public static func parse(_ text: String, field: String) throws -> USDCost {
        guard let value = ExactDecimal.parse(text) else {
            throw ValidationError(field: field, reason: "\"\(Validate.preview(text))\" is not a decimal amount; use digits with an optional decimal point, e.g. \"2.50\" or \"0.075\"")
        }
        guard !value.isNegative else {
            throw ValidationError(field: field, reason: "must not be negative (got \"\(Validate.preview(text))\")")
        }
        return USDCost(value)
    }

    public var isZero: Bool { value.isZero }

    /// Full precision, no exponent, no trailing zeros: "0.000000075", "6.025", "0".
    public var description: String { value.plainText }

    /// Rounded half to even to `places` decimals and padded to exactly that many, for
    /// display: `formatted(places: 2)` of 0.125 is "0.12", of 0.135 is "0.14".
    public func formatted(places: Int) -> String {
        value.rounded(toPlaces: places).text(minimumPlaces: places)
    }

    /// Rounded half to even to `places` decimals.
    public func rounded(toPlaces places: Int) -> USDCost {
        USDCost(value.rounded(toPlaces: places))
    }

    public static func + (lhs: USDCost, rhs: USDCost) -> USDCost { USDCost(lhs.value + rhs.value) }

    public static func += (lhs: inout USDCost, rhs: USDCost) { lhs = lhs + rhs }

    /// The difference; may be negative (e.g. a credit or a comparison of two bills).
    public static func - (lhs: USDCost, rhs: USDCost) -> USDCost { USDCost(lhs.value - rhs.value) }

    /// `count` times this amount, exactly.
    public static func * (lhs: USDCost, rhs: Int) -> USDCost { USDCost(lhs.value * ExactDecimal(rhs)) }

    public static func < (lhs: USDCost, rhs: USDCost) -> Bool { lhs.value < rhs.value }

    /// Encoded as its decimal text ("0.000000075"), never as a JSON number, so no
    /// floating-point parser touches it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = ExactDecimal.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(Validate.preview(text))\" is not a decimal USD amount")
        }
        self.init(value)
    }
}
