/// One version of one model's list price, as published by its provider, with the day it
/// took effect and where it was read.
///
/// A model has one entry per price change; the calculator uses the entry in force at the
/// time of the request, so a change never re-prices earlier requests.
public struct PriceEntry: Sendable, Hashable {
    public var provider: Provider
    /// The catalog's canonical model id ("gpt-4o", "claude-sonnet-4-5").
    public var model: String
    /// Other names the provider reports for the same model and price: dated snapshots
    /// ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929") and aliases ("claude-3-5-haiku-latest").
    public var aliases: [String]
    /// The first UTC day this price applies to.
    public var effectiveFrom: PriceDate
    /// The provider's pricing page the numbers were read from.
    public var source: String
    /// Caveats: derived numbers, deployment types, conservative effective dates.
    public var note: String?
    /// Standard (synchronous, ≤ any long-context threshold) prices.
    public var prices: PriceSheet
    /// Batch API pricing; nil when the catalog does not know it (batch requests are then unpriced).
    public var batch: BatchPricing?
    /// Prices for requests whose prompt exceeds a threshold, if the model has such a tier.
    public var longContext: LongContextTier?

    public init(provider: Provider, model: String, aliases: [String] = [], effectiveFrom: PriceDate, source: String,
                note: String? = nil, prices: PriceSheet, batch: BatchPricing? = nil, longContext: LongContextTier? = nil) {
        self.provider = provider
        self.model = model
        self.aliases = aliases
        self.effectiveFrom = effectiveFrom
        self.source = source
        self.note = note
        self.prices = prices
        self.batch = batch
        self.longContext = longContext
    }

    /// The model id and every alias.
    public var names: [String] { [model] + aliases }

    /// "openai/gpt-4o@2024-08-06", for messages.
    public var label: String { "\(provider.rawValue)/\(model)@\(effectiveFrom)" }
}

/// How the Batch API prices a model: a flat discount on every price of the tier in use
/// (OpenAI, Anthropic), or explicit prices (Gemini, whose batch cache reads are not
/// discounted).
public enum BatchPricing: Sendable, Hashable {
    case discount(DiscountPercent)
    case prices(PriceSheet)
}

/// A long-context tier: when a request's prompt (all input classes, cached or not) is
/// larger than `thresholdPromptTokens`, the WHOLE request — input, cache and output — is
/// billed at these prices, as Anthropic and Google bill it.
public struct LongContextTier: Sendable, Hashable {
    public var thresholdPromptTokens: Int
    public var prices: PriceSheet
    /// Batch pricing within this tier; when nil, a ``BatchPricing/discount(_:)`` of the
    /// entry applies to this tier's prices.
    public var batch: BatchPricing?

    public init(thresholdPromptTokens: Int, prices: PriceSheet, batch: BatchPricing? = nil) {
        self.thresholdPromptTokens = thresholdPromptTokens
        self.prices = prices
        self.batch = batch
    }
}
