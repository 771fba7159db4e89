/// A price in US dollars per million tokens, the unit every provider publishes.
///
/// Kept in the published unit (so "$0.075 / 1M tokens" is stored as 0.075, not as a
/// rounded per-token figure) and turned into a cost only by ``cost(forTokens:)``, which is
/// exact: $0.075/M × 1 token = 0.000000075 USD.
public struct TokenPrice: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// US dollars for one million tokens.
    public let usdPerMillionTokens: USDCost

    public init(usdPerMillionTokens: USDCost) {
        self.usdPerMillionTokens = usdPerMillionTokens
    }

    /// Parses a non-negative decimal USD-per-million-tokens figure ("2.50", "0.075"),
    /// naming `field` when it is not one.
    public static func parse(_ text: String, field: String) throws -> TokenPrice {
        TokenPrice(usdPerMillionTokens: try USDCost.parse(text, field: field))
    }

    /// What `count` tokens cost at this price, exactly.
    public func cost(forTokens count: Int) -> USDCost {
        USDCost((usdPerMillionTokens.value * ExactDecimal(count)).shiftedRight(by: 6))
    }

    /// This price scaled by an exact factor (0.5 for a 50% discount).
    func scaled(by factor: ExactDecimal) -> TokenPrice {
        TokenPrice(usdPerMillionTokens: USDCost(usdPerMillionTokens.value * factor))
    }

    /// The decimal USD-per-million figure: "0.075".
    public var description: String { usdPerMillionTokens.description }

    public static func < (lhs: TokenPrice, rhs: TokenPrice) -> Bool {
        lhs.usdPerMillionTokens < rhs.usdPerMillionTokens
    }
}

/// A percentage discount (0–100), such as the Batch API's 50% or a negotiated rebate.
/// Applying it is exact: 12.5% off $0.0375 is $0.0328125.
public struct DiscountPercent: Sendable, Hashable, CustomStringConvertible {
    let value: ExactDecimal

    /// Parses "50", "12.5" (0 to 100 inclusive), naming `field` when it is not one.
    public static func parse(_ text: String, field: String) throws -> DiscountPercent {
        guard let value = ExactDecimal.parse(text) else {
            throw ValidationError(field: field, reason: "\"\(Validate.preview(text))\" is not a percentage; use a decimal from 0 to 100, e.g. \"50\" or \"12.5\"")
        }
        guard !value.isNegative, value <= ExactDecimal(100) else {
            throw ValidationError(field: field, reason: "must be between 0 and 100 (got \"\(Validate.preview(text))\")")
        }
        return DiscountPercent(value: value)
    }

    /// The percentage as decimal text: "50", "12.5".
    public var description: String { value.plainText }

    /// `price` reduced by this percentage.
    public func apply(to price: TokenPrice) -> TokenPrice {
        price.scaled(by: (ExactDecimal(100) - value).shiftedRight(by: 2))
    }
}
