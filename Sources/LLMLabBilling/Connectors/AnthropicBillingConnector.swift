import NIOHTTP1

/// Anthropic's Admin API cost report (`GET /v1/organizations/cost_report`, `x-api-key`
/// admin key), daily buckets grouped by description. Amounts are decimal strings in
/// cents and are converted to USD exactly. Results name their `model` when grouped by
/// description; token cost that does not is split across models by the Messages usage
/// report (`/v1/organizations/usage_report/messages`, grouped by model).
public struct AnthropicBillingConnector: BillingConnector {
    public struct Configuration: Sendable {
        public var baseURL = "https://api.anthropic.com"
        public var anthropicVersion = "2023-06-01"
        /// Daily buckets per page (the API allows at most 31).
        public var pageLimit = 31
        public var splitUnattributedByUsage = true
        public static let defaults = Configuration()
        public init() {}
    }

    public let provider = "anthropic"
    let adminKey: String
    let configuration: Configuration
    let http: BillingHTTPClient
    let attribution: ModelAttribution

    public init(adminKey: String, configuration: Configuration = .defaults, http: BillingHTTPClient,
                attribution: ModelAttribution = .bundled) {
        self.adminKey = adminKey
        self.configuration = configuration
        self.http = http
        self.attribution = attribution
    }

    public func fetch(_ period: BillingPeriod) async throws -> [BilledLine] {
        let pages = try await CursorPaging.all(what: "Anthropic cost report") { cursor in
            try await get("/v1/organizations/cost_report", period: period, groupBy: "description", cursor: cursor,
                          what: "Anthropic cost report")
        }
        let (attributed, unattributedTokens) = try Self.costLines(pages, period: period, attribution: attribution)
        var lines = attributed
        if configuration.splitUnattributedByUsage, !unattributedTokens.isEmpty {
            let usagePages = try await CursorPaging.all(what: "Anthropic usage report") { cursor in
                try await get("/v1/organizations/usage_report/messages", period: period, groupBy: "model", cursor: cursor,
                              what: "Anthropic usage report")
            }
            lines += UsageSplit.split(unattributedTokens, weights: try Self.usageWeights(usagePages, attribution: attribution))
        } else {
            lines += unattributedTokens
        }
        return lines.mergedByKey()
    }

    func get(_ path: String, period: BillingPeriod, groupBy: String, cursor: String?, what: String) async throws -> BillingJSON {
        var query: [(String, String)] = [
            ("starting_at", period.first.rfc3339), ("ending_at", period.endExclusive.rfc3339), ("bucket_width", "1d"),
            ("group_by[]", groupBy), ("limit", String(configuration.pageLimit)),
        ]
        if let cursor { query.append(("page", cursor)) }
        var headers = HTTPHeaders()
        headers.add(name: "x-api-key", value: adminKey)
        headers.add(name: "anthropic-version", value: configuration.anthropicVersion)
        headers.add(name: "accept", value: "application/json")
        let url = configuration.baseURL.withoutTrailingSlash + path + "?" + Query.encode(query)
        let response = try await http.send(.GET, url, headers: headers, secrets: [adminKey], what: what)
        return try BillingJSON.parse(response.body)
    }

    /// Lines from cost report pages, split into those that are done and token cost with no
    /// model (to be split by usage). `amount` is a decimal string in cents.
    static func costLines(_ pages: [BillingJSON], period: BillingPeriod,
                          attribution: ModelAttribution) throws(BillingError) -> (lines: [BilledLine], unattributedTokens: [BilledLine]) {
        var lines: [BilledLine] = []
        var unattributed: [BilledLine] = []
        for page in pages {
            guard let buckets = page["data"]?.arrayValue else {
                throw BillingError(.invalidResponse, "Anthropic cost report: the page has no data array")
            }
            for bucket in buckets {
                guard let start = bucket.string("starting_at"), let day = BillingDay.parse(start) else {
                    throw BillingError(.invalidResponse, "Anthropic cost report: a bucket has no valid starting_at")
                }
                guard period.contains(day) else { continue }
                for result in bucket["results"]?.arrayValue ?? [] {
                    guard let cents = result["amount"]?.numberText, let usd = DecimalText.centsToUSD(cents),
                          let amount = DecimalText.canonical(usd)
                    else { throw BillingError(.invalidResponse, "Anthropic cost report: a result on \(day) has no decimal amount") }
                    let currency = (result.string("currency") ?? "USD").uppercased()
                    guard currency == "USD" else {
                        throw BillingError(.invalidResponse, "Anthropic cost report: currency \(currency) on \(day) is not supported (USD only)")
                    }
                    let costType = result.string("cost_type") ?? ""
                    var label = result.string("description") ?? ""
                    if label.isEmpty {
                        label = [costType, result.string("token_type") ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
                    }
                    if label.isEmpty { label = "(no description)" }
                    let model = attribution.model(provider: "anthropic", name: result.string("model") ?? "")
                    let line = BilledLine(provider: "anthropic", day: day, model: model, lineItem: label, amountUSD: amount,
                                          currency: "USD")
                    if model.isEmpty, costType.isEmpty || costType == "tokens" {
                        unattributed.append(line)
                    } else {
                        lines.append(line)
                    }
                }
            }
        }
        return (lines, unattributed)
    }

    /// Billable tokens per day and catalog model from usage report pages.
    static func usageWeights(_ pages: [BillingJSON], attribution: ModelAttribution) throws(BillingError) -> [BillingDay: [String: Int64]] {
        var weights: [BillingDay: [String: Int64]] = [:]
        for page in pages {
            guard let buckets = page["data"]?.arrayValue else {
                throw BillingError(.invalidResponse, "Anthropic usage report: the page has no data array")
            }
            for bucket in buckets {
                guard let start = bucket.string("starting_at"), let day = BillingDay.parse(start) else {
                    throw BillingError(.invalidResponse, "Anthropic usage report: a bucket has no valid starting_at")
                }
                for result in bucket["results"]?.arrayValue ?? [] {
                    let model = attribution.model(provider: "anthropic", name: result.string("model") ?? "")
                    guard !model.isEmpty else { continue }
                    var tokens: Int64 = 0
                    for key in ["uncached_input_tokens", "cache_read_input_tokens", "output_tokens"] {
                        tokens += result[key]?.numberText.flatMap { Int64($0) } ?? 0
                    }
                    if let creation = result["cache_creation"] {
                        for key in ["ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"] {
                            tokens += creation[key]?.numberText.flatMap { Int64($0) } ?? 0
                        }
                    }
                    guard tokens > 0 else { continue }
                    weights[day, default: [:]][model, default: 0] += tokens
                }
            }
        }
        return weights
    }
}
