public import LLMLabCore

/// What LLMLab tracked for a provider, day and model: the sum of the hourly rollup's
/// `cost_usd` for that UTC day.
public struct TrackedCost: Sendable, Hashable {
    public var provider: String
    public var day: BillingDay
    public var model: String
    public var amountUSD: String

    public init(provider: String, day: BillingDay, model: String, amountUSD: String) {
        self.provider = provider
        self.day = day
        self.model = model
        self.amountUSD = amountUSD
    }
}

/// When a difference is worth a look: its size relative to the bill exceeds `percent`
/// **and** it is at least `minimumUSD` (so a 40 % gap on two cents does not page anyone).
public struct ReconciliationThreshold: Sendable, Hashable {
    /// Canonical decimal text, e.g. "5".
    public let percent: String
    /// Canonical decimal text, e.g. "0.01".
    public let minimumUSD: String

    public static let defaults = ReconciliationThreshold(uncheckedPercent: "5", minimumUSD: "0.01")

    init(uncheckedPercent: String, minimumUSD: String) {
        self.percent = uncheckedPercent
        self.minimumUSD = minimumUSD
    }

    /// Validates both values: non-negative decimals; empty means the default.
    public static func parse(percent: String, minimumUSD: String) throws(ValidationError) -> ReconciliationThreshold {
        func value(_ text: String, field: String, default fallback: String) throws(ValidationError) -> String {
            let trimmed = text.trimmingSpaces
            if trimmed.isEmpty { return fallback }
            guard let cost = try? USDCost.parse(trimmed, field: field) else {
                throw ValidationError(field: field, reason: "\"\(GenericBillingCSV.preview(trimmed))\" is not a non-negative decimal number, e.g. \"5\" or \"2.5\"")
            }
            return cost.rounded(toPlaces: DecimalText.places).description
        }
        let percentText = try value(percent, field: "threshold_percent", default: defaults.percent)
        guard let percentValue = DecimalText.cost(percentText), !(USDCost(picoUSD: 1000 * 1_000_000_000_000) < percentValue) else {
            throw ValidationError(field: "threshold_percent", reason: "must be between 0 and 1000")
        }
        return ReconciliationThreshold(uncheckedPercent: percentText,
                                       minimumUSD: try value(minimumUSD, field: "minimum_difference_usd", default: defaults.minimumUSD))
    }
}

/// Which sides a reconciliation row has: rows present on one side only are the ones that
/// most often explain a gap (untracked traffic, a model the bill does not name).
public enum ReconciliationSide: String, Sendable, Hashable {
    case both
    case trackedOnly = "tracked_only"
    case billedOnly = "billed_only"
}

/// Tracked against billed for one provider, day and model (or, in totals, one provider).
public struct ReconciliationRow: Sendable, Hashable {
    public var provider: String
    /// nil in provider totals.
    public var day: BillingDay?
    /// "" for unattributed billed cost; empty in totals.
    public var model: String
    public var trackedUSD: String
    public var billedUSD: String
    /// billed − tracked: positive when the provider billed more than LLMLab saw.
    public var differenceUSD: String
    /// difference ÷ billed × 100, two decimals (half away from zero); nil when billed is 0.
    public var differencePercent: String?
    public var flagged: Bool
    public var side: ReconciliationSide
}

/// The comparison of what LLMLab tracked with what providers billed. Pure and exact: all
/// amounts are decimal text added with ``USDCost``; the percentage is integer arithmetic on
/// pico-dollars.
public struct Reconciliation: Sendable, Hashable {
    public var rows: [ReconciliationRow]
    /// One per provider, in provider order.
    public var totals: [ReconciliationRow]

    public static func compute(tracked: [TrackedCost], billed: [BilledLine], threshold: ReconciliationThreshold = .defaults,
                               attribution: ModelAttribution = .bundled) -> Reconciliation {
        struct Key: Hashable, Comparable {
            var provider: String
            var day: BillingDay
            var model: String
            static func < (a: Key, b: Key) -> Bool {
                (a.provider, a.day.ordinal, a.model) < (b.provider, b.day.ordinal, b.model)
            }
        }
        var trackedSums: [Key: USDCost] = [:]
        var billedSums: [Key: USDCost] = [:]
        for cost in tracked {
            let canonical = attribution.model(provider: cost.provider, name: cost.model)
            let key = Key(provider: cost.provider, day: cost.day, model: canonical.isEmpty ? cost.model.lowercased() : canonical)
            trackedSums[key, default: .zero] += DecimalText.cost(cost.amountUSD) ?? .zero
        }
        for line in billed {
            let key = Key(provider: line.provider, day: line.day, model: line.model)
            billedSums[key, default: .zero] += DecimalText.cost(line.amountUSD) ?? .zero
        }
        let keys = Set(trackedSums.keys).union(billedSums.keys).sorted()
        var rows: [ReconciliationRow] = []
        var providerTracked: [String: USDCost] = [:]
        var providerBilled: [String: USDCost] = [:]
        var providerSides: [String: Set<ReconciliationSide>] = [:]
        for key in keys {
            let t = trackedSums[key], b = billedSums[key]
            let side: ReconciliationSide = t == nil ? .billedOnly : (b == nil ? .trackedOnly : .both)
            rows.append(row(provider: key.provider, day: key.day, model: key.model, tracked: t ?? .zero, billed: b ?? .zero,
                            side: side, threshold: threshold))
            providerTracked[key.provider, default: .zero] += t ?? .zero
            providerBilled[key.provider, default: .zero] += b ?? .zero
            providerSides[key.provider, default: []].insert(side)
        }
        let totals = providerTracked.keys.sorted().map { provider in
            let sides = providerSides[provider] ?? []
            let side: ReconciliationSide = sides == [.trackedOnly] ? .trackedOnly : (sides == [.billedOnly] ? .billedOnly : .both)
            return row(provider: provider, day: nil, model: "", tracked: providerTracked[provider] ?? .zero,
                       billed: providerBilled[provider] ?? .zero, side: side, threshold: threshold)
        }
        return Reconciliation(rows: rows, totals: totals)
    }

    static func row(provider: String, day: BillingDay?, model: String, tracked: USDCost, billed: USDCost,
                    side: ReconciliationSide, threshold: ReconciliationThreshold) -> ReconciliationRow {
        let difference = billed - tracked
        let (percent, flagged) = assess(difference: difference, billed: billed, threshold: threshold)
        return ReconciliationRow(provider: provider, day: day, model: model, trackedUSD: tracked.description,
                                 billedUSD: billed.description, differenceUSD: difference.description,
                                 differencePercent: percent, flagged: flagged, side: side)
    }

    /// The percentage text and whether the difference crosses the threshold.
    static func assess(difference: USDCost, billed: USDCost, threshold: ReconciliationThreshold) -> (String?, Bool) {
        let pico: Int128 = 1_000_000_000_000
        let d = difference.rounded(toPlaces: DecimalText.places).picoUSD ?? 0
        let b = billed.rounded(toPlaces: DecimalText.places).picoUSD ?? 0
        let thresholdPico = DecimalText.cost(threshold.percent)?.picoUSD ?? 5 * pico
        let minimumPico = DecimalText.cost(threshold.minimumUSD)?.picoUSD ?? pico / 100
        let absD = d.magnitude, absB = b.magnitude
        let bigEnough = absD >= minimumPico.magnitude && absD > 0
        guard absB > 0 else { return (nil, bigEnough) }
        // |d| / |b| × 100 > threshold  ⇔  |d| × 100 × 10^12 > thresholdPico × |b|
        let exceeds = absD * 100 * UInt128(pico) > UInt128(thresholdPico.magnitude) * absB
        // Hundredths of a percent, rounded half away from zero.
        let hundredths = (absD * 20_000 / absB + 1) / 2
        let negative = (d < 0) != (b < 0) && hundredths != 0
        let whole = hundredths / 100, fraction = hundredths % 100
        let text = (negative ? "-" : "") + "\(whole)." + (fraction < 10 ? "0" : "") + "\(fraction)"
        return (text, exceeds && bigEnough)
    }
}
