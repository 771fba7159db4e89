public import Foundation

/// Prices one request: normalised token usage × the prices in force for that model at that
/// moment, with the tenant's override on top. Pure and exact; the gateway calls it once per
/// request and stores the result (a cost, or "unpriced" with a reason).
public enum CostCalculator {
    /// The cost of `usage` on `provider`'s `model` at `time`.
    ///
    /// - `model`: the name the provider reported (for Azure, the model name in the
    ///   response, not the deployment name). Matched exactly against catalog ids and
    ///   aliases, then without a snapshot suffix.
    /// - `batch`: the request went through the provider's Batch API.
    /// - `overrides`: the tenant's price overrides (any models; the applicable one is chosen
    ///   here: same provider and model, latest `effectiveFrom` not after `time`).
    ///
    /// Selection order: catalog entry in force at `time` → long-context tier when the
    /// prompt (every input class) exceeds the tier's threshold, applied to the WHOLE request
    /// → override prices for that tier → batch pricing → override discount. Reasoning
    /// tokens are billed at the output price unless a reasoning price is set. Any class with
    /// tokens but no price makes the request unpriced.
    public static func cost(provider: Provider, model: String, usage: TokenUsage, at time: Date, batch: Bool = false,
                            overrides: [PriceOverride] = [], catalog: PriceCatalog = .bundled) -> PricedCost {
        guard !usage.hasNegativeCount else {
            return .unpriced(.invalidUsage("a token count is negative (\(usage))"))
        }
        let modelID = catalog.modelID(provider: provider, name: model)
        let override = applicableOverride(overrides, provider: provider, model: model, modelID: modelID, catalog: catalog, at: time)

        var rates: PriceSheet
        var tier = PriceTier.standard
        let entry = modelID.flatMap { catalog.entry(provider: provider, model: $0, at: time) }
        if let entry {
            var batchRule = entry.batch
            if let longContext = entry.longContext, usage.promptTokens > longContext.thresholdPromptTokens {
                tier = .longContext
                rates = longContext.prices.patched(with: override?.longContextPrices ?? PriceSheet())
                // The tier's own batch prices, else the entry's batch discount applied to the tier.
                if let tierBatch = longContext.batch {
                    batchRule = tierBatch
                } else if case .discount? = entry.batch {
                    batchRule = entry.batch
                } else {
                    batchRule = nil
                }
            } else {
                rates = entry.prices.patched(with: override?.prices ?? PriceSheet())
            }
            if batch {
                switch batchRule {
                case .discount(let discount)?: rates = rates.discounted(by: discount)
                case .prices(let batchPrices)?: rates = batchPrices
                case nil: return .unpriced(.noBatchPrice(provider: provider, model: model))
                }
            }
        } else if let override, override.prices.input != nil {
            // A model the catalog does not price (now): the tenant's own price list.
            guard !batch else { return .unpriced(.noBatchPrice(provider: provider, model: model)) }
            rates = override.prices
        } else if modelID != nil {
            return .unpriced(.noPriceInForce(provider: provider, model: model, at: time))
        } else {
            return .unpriced(.unknownModel(provider: provider, model: model))
        }
        if let discount = override?.discount { rates = rates.discounted(by: discount) }

        var lines: [CostLine] = []
        var total = USDCost.zero
        for tokenClass in TokenClass.allCases where usage[tokenClass] > 0 {
            guard let price = rates.billedPrice(for: tokenClass) else {
                return .unpriced(.missingPrice(provider: provider, model: model, tokenClass: tokenClass))
            }
            let cost = price.cost(forTokens: usage[tokenClass])
            lines.append(CostLine(tokenClass: tokenClass, tokens: usage[tokenClass], price: price, cost: cost))
            total += cost
        }
        return .priced(total: total, breakdown: lines,
                       price: AppliedPrice(entry: entry, override: override, tier: tier, batch: batch, rates: rates))
    }

    /// The tenant override in force for this model at `time`: same provider, a name that
    /// means the same model, the latest `effectiveFrom` not after `time` (on a tie, the one
    /// listed last).
    static func applicableOverride(_ overrides: [PriceOverride], provider: Provider, model: String, modelID: String?,
                                   catalog: PriceCatalog, at time: Date) -> PriceOverride? {
        let requested = ModelName.normalized(model)
        let requestedBase = ModelName.withoutSnapshotSuffix(requested)
        var chosen: PriceOverride?
        for override in overrides where override.provider == provider && override.effectiveFrom <= time {
            let name = ModelName.normalized(override.model)
            let sameModel: Bool
            if let modelID {
                sameModel = catalog.modelID(provider: provider, name: name) == modelID
            } else {
                sameModel = name == requested || name == requestedBase
            }
            if sameModel, chosen.map({ override.effectiveFrom >= $0.effectiveFrom }) ?? true {
                chosen = override
            }
        }
        return chosen
    }
}
