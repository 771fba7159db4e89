public import Foundation

/// What a request cost, or why it has no price. There is no third outcome: a model the
/// catalog does not know is ``unpriced(_:)`` and stored as such, never billed at zero.
public enum PricedCost: Sendable, Hashable {
    /// The exact total, one line per token class with tokens, and the prices used.
    case priced(total: USDCost, breakdown: [CostLine], price: AppliedPrice)
    case unpriced(UnpricedReason)

    /// The total, or nil when unpriced.
    public var total: USDCost? {
        if case .priced(let total, _, _) = self { return total }
        return nil
    }

    /// The line for one token class, if it had tokens.
    public func line(_ tokenClass: TokenClass) -> CostLine? {
        if case .priced(_, let breakdown, _) = self { return breakdown.first { $0.tokenClass == tokenClass } }
        return nil
    }
}

/// One token class of a priced request: tokens × price per million = cost.
public struct CostLine: Sendable, Hashable {
    public var tokenClass: TokenClass
    public var tokens: Int
    public var price: TokenPrice
    public var cost: USDCost

    public init(tokenClass: TokenClass, tokens: Int, price: TokenPrice, cost: USDCost) {
        self.tokenClass = tokenClass
        self.tokens = tokens
        self.price = price
        self.cost = cost
    }
}

/// Which prices a cost was computed with, so a stored cost can be explained.
public struct AppliedPrice: Sendable, Hashable {
    /// The catalog entry in force; nil when a tenant override priced a model the catalog
    /// does not list.
    public var entry: PriceEntry?
    /// The tenant override applied on top, if any.
    public var override: PriceOverride?
    public var tier: PriceTier
    public var batch: Bool
    /// The final per-million prices after tier, batch and override.
    public var rates: PriceSheet

    public init(entry: PriceEntry?, override: PriceOverride?, tier: PriceTier, batch: Bool, rates: PriceSheet) {
        self.entry = entry
        self.override = override
        self.tier = tier
        self.batch = batch
        self.rates = rates
    }
}

/// Standard prices, or a model's long-context tier.
public enum PriceTier: String, Sendable, Hashable, Codable {
    case standard
    case longContext = "long_context"
}

/// Why a request could not be priced. ``code`` is stable for storage and metrics;
/// ``description`` says what is missing and how to fix it.
public enum UnpricedReason: Sendable, Hashable, CustomStringConvertible {
    /// No catalog entry or tenant override names this model.
    case unknownModel(provider: Provider, model: String)
    /// The catalog knows the model, but its first price starts after the request.
    case noPriceInForce(provider: Provider, model: String, at: Date)
    /// The request was a batch request and the model's batch price is unknown.
    case noBatchPrice(provider: Provider, model: String)
    /// The request has tokens in a class the model has no price for.
    case missingPrice(provider: Provider, model: String, tokenClass: TokenClass)
    /// The usage itself is impossible (negative counts).
    case invalidUsage(String)

    public var code: String {
        switch self {
        case .unknownModel: "unknown_model"
        case .noPriceInForce: "no_price_in_force"
        case .noBatchPrice: "no_batch_price"
        case .missingPrice: "missing_price"
        case .invalidUsage: "invalid_usage"
        }
    }

    public var description: String {
        switch self {
        case .unknownModel(let provider, let model):
            "no price for \(provider.rawValue) model \"\(model)\": it is not in the price catalog; set a tenant price override to price it"
        case .noPriceInForce(let provider, let model, let at):
            "no price for \(provider.rawValue) model \"\(model)\" at \(at): the catalog's first price for it starts later"
        case .noBatchPrice(let provider, let model):
            "no batch price for \(provider.rawValue) model \"\(model)\" in the price catalog"
        case .missingPrice(let provider, let model, let tokenClass):
            "\(provider.rawValue) model \"\(model)\" has no \(tokenClass.rawValue) price, but the request used such tokens"
        case .invalidUsage(let message):
            "usage cannot be priced: \(message)"
        }
    }
}
