public import Foundation

/// A tenant's own price for a model — a negotiated discount, a committed-use rate, or a
/// price for a model the catalog does not list — layered on top of the catalog from an
/// instant on.
///
/// Like catalog prices it is never retroactive: it applies to requests at or after
/// ``effectiveFrom``, and the latest override in force wins (overrides do not stack).
/// Its ``prices`` replace the catalog's standard prices one by one (nil keeps the catalog
/// price), ``longContextPrices`` do the same for the long-context tier, and ``discount``
/// then reduces whatever prices the request is billed at (tier and batch included).
/// Batch prices that the catalog derives from a discount are derived from the overridden
/// prices.
public struct PriceOverride: Sendable, Hashable {
    public var provider: Provider
    /// The model it applies to: a catalog id or any name that resolves to it; for a model
    /// not in the catalog, the exact name the provider reports.
    public var model: String
    public var effectiveFrom: Date
    public var prices: PriceSheet
    public var longContextPrices: PriceSheet
    public var discount: DiscountPercent?

    public init(provider: Provider, model: String, effectiveFrom: Date, prices: PriceSheet = PriceSheet(),
                longContextPrices: PriceSheet = PriceSheet(), discount: DiscountPercent? = nil) {
        self.provider = provider
        self.model = model
        self.effectiveFrom = effectiveFrom
        self.prices = prices
        self.longContextPrices = longContextPrices
        self.discount = discount
    }

    /// An override that starts at 00:00 UTC of `effectiveFrom` (day-granular overrides, as
    /// the catalog's own prices are).
    public init(provider: Provider, model: String, effectiveFrom: PriceDate, prices: PriceSheet = PriceSheet(),
                longContextPrices: PriceSheet = PriceSheet(), discount: DiscountPercent? = nil) {
        self.init(provider: provider, model: model, effectiveFrom: effectiveFrom.start, prices: prices,
                  longContextPrices: longContextPrices, discount: discount)
    }

    /// Builds an override from request fields (as `SetPriceOverride` receives them),
    /// naming the wire field in any error: `provider`, `model`, `prices.<class>`,
    /// `long_context_prices.<class>`, `discount_percent`.
    public static func parse(provider: String, model: String, effectiveFrom: Date, prices: [String: String] = [:],
                             longContextPrices: [String: String] = [:], discountPercent: String? = nil) throws -> PriceOverride {
        guard let parsedProvider = Provider(rawValue: provider) else {
            let known = Provider.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError(field: "provider", reason: "\"\(Validate.preview(provider))\" is not a provider; use one of \(known)")
        }
        let override = PriceOverride(
            provider: parsedProvider,
            model: model,
            effectiveFrom: effectiveFrom,
            prices: try PriceSheet.parse(prices, fieldPrefix: "prices"),
            longContextPrices: try PriceSheet.parse(longContextPrices, fieldPrefix: "long_context_prices"),
            discount: try discountPercent.map { try DiscountPercent.parse($0, field: "discount_percent") })
        try override.validate()
        return override
    }

    /// Refuses an override that names no model or changes nothing.
    public func validate() throws {
        guard !ModelName.normalized(model).isEmpty else {
            throw ValidationError(field: "model", reason: "is required, e.g. \"gpt-4o\"")
        }
        guard !prices.isEmpty || !longContextPrices.isEmpty || discount != nil else {
            throw ValidationError(field: "prices", reason: "give at least one price or a discount_percent")
        }
    }

    /// Refuses an override that would start before `now` (minus `grace` for clock skew):
    /// a price change must not re-date requests that were already priced.
    public func checkNotRetroactive(now: Date, grace: TimeInterval = 300) throws {
        guard effectiveFrom >= now.addingTimeInterval(-grace) else {
            throw ValidationError(field: "effective_from", reason: "must not be in the past; a price override applies from now or a future time")
        }
    }
}
