/// One normalised line of what a provider billed: the unit every connector and importer
/// produces and the store keeps, whatever the provider's own shape was.
///
/// `amountUSD` is exact decimal text (never a floating-point number) so that sums and
/// the comparison with tracked cost stay exact; it may be negative (credits, refunds).
public struct BilledLine: Sendable, Hashable, Codable {
    /// LLMLab's provider spelling (`openai`, `anthropic`, `azure_openai`, `gemini`), the same
    /// as in usage events, so billed and tracked cost meet on it.
    public var provider: String
    /// The UTC day the cost was incurred.
    public var day: BillingDay
    /// The catalog model id when the line can be attributed to one, else "" (unattributed).
    public var model: String
    /// The provider's own line item or description ("gpt-4o-2024-08-06, input").
    public var lineItem: String
    /// Exact decimal USD ("12.345678"); negative for credits.
    public var amountUSD: String
    /// The currency the provider reported (always "USD" once normalised; kept for audit).
    public var currency: String

    public init(provider: String, day: BillingDay, model: String, lineItem: String, amountUSD: String, currency: String = "USD") {
        self.provider = provider
        self.day = day
        self.model = model
        self.lineItem = lineItem
        self.amountUSD = amountUSD
        self.currency = currency
    }
}

extension Array where Element == BilledLine {
    /// Lines with the same provider, day, model and line item merged into one (amounts
    /// added exactly): the natural key the store keeps them under.
    public func mergedByKey() -> [BilledLine] {
        var order: [BilledLineKey] = []
        var sums: [BilledLineKey: (BilledLine, [String])] = [:]
        for line in self {
            let key = BilledLineKey(line)
            if sums[key] == nil {
                order.append(key)
                sums[key] = (line, [line.amountUSD])
            } else {
                sums[key]!.1.append(line.amountUSD)
            }
        }
        return order.map { key in
            var (line, amounts) = sums[key]!
            line.amountUSD = DecimalText.sum(amounts)
            return line
        }
    }
}

/// The natural key of a billed line: re-syncs and re-imports replace rather than add.
public struct BilledLineKey: Sendable, Hashable {
    public var provider: String
    public var day: BillingDay
    public var model: String
    public var lineItem: String

    public init(_ line: BilledLine) {
        provider = line.provider
        day = line.day
        model = line.model
        lineItem = line.lineItem
    }
}
