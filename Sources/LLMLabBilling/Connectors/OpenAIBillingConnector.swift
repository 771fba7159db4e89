import LLMLabCore
import NIOHTTP1

/// OpenAI's organization Costs API (`GET /v1/organization/costs`, admin key), daily
/// buckets grouped by line item and project. Line items name the model
/// ("gpt-4o-2024-08-06, input"); cost without any line item is split across models by
/// the completions Usage API's token counts for that day (`/v1/organization/usage/completions`,
/// grouped by model), keeping the day's sum exact.
public struct OpenAIBillingConnector: BillingConnector {
    public struct Configuration: Sendable {
        /// Scheme and host (and optional path prefix) the `/v1/...` paths hang off.
        public var baseURL = "https://api.openai.com"
        /// Sent as `OpenAI-Organization` when set.
        public var organization: String?
        /// Only this project's costs (`project_ids=`), when set.
        public var projectID: String?
        /// Buckets per page (the API allows 1...180 for costs, 1...31 for daily usage).
        public var costPageLimit = 180
        public var usagePageLimit = 31
        /// Split unattributed cost by usage; off leaves it unattributed.
        public var splitUnattributedByUsage = true
        public static let defaults = Configuration()
        public init() {}
    }

    public let provider = "openai"
    static let noLineItem = "(no line item)"
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

    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "authorization", value: "Bearer \(adminKey)")
        headers.add(name: "accept", value: "application/json")
        if let organization = configuration.organization { headers.add(name: "openai-organization", value: organization) }
        return headers
    }

    public func fetch(_ period: BillingPeriod) async throws -> [BilledLine] {
        let pages = try await CursorPaging.all(what: "OpenAI costs") { cursor in
            var query: [(String, String)] = [
                ("start_time", String(period.first.unixSeconds)), ("end_time", String(period.endExclusive.unixSeconds)),
                ("bucket_width", "1d"), ("group_by", "line_item"), ("group_by", "project_id"),
                ("limit", String(configuration.costPageLimit)),
            ]
            if let project = configuration.projectID { query.append(("project_ids", project)) }
            if let cursor { query.append(("page", cursor)) }
            return try await get("/v1/organization/costs", query, what: "OpenAI costs")
        }
        let all = try Self.costLines(pages, period: period, attribution: attribution)
        // Only cost with no line item at all is split: a named item the catalog does not know
        // ("Web search tool calls", a fine-tuned model) is not any catalog model's usage.
        var lines = all.filter { !($0.model.isEmpty && $0.lineItem.hasPrefix(Self.noLineItem)) }
        let unnamed = all.filter { $0.model.isEmpty && $0.lineItem.hasPrefix(Self.noLineItem) }
        if configuration.splitUnattributedByUsage, !unnamed.isEmpty {
            let usagePages = try await CursorPaging.all(what: "OpenAI usage") { cursor in
                var query: [(String, String)] = [
                    ("start_time", String(period.first.unixSeconds)), ("end_time", String(period.endExclusive.unixSeconds)),
                    ("bucket_width", "1d"), ("group_by", "model"), ("limit", String(configuration.usagePageLimit)),
                ]
                if let project = configuration.projectID { query.append(("project_ids", project)) }
                if let cursor { query.append(("page", cursor)) }
                return try await get("/v1/organization/usage/completions", query, what: "OpenAI usage")
            }
            let weights = try Self.usageWeights(usagePages, attribution: attribution)
            lines += UsageSplit.split(unnamed, weights: weights)
        } else {
            lines += unnamed
        }
        return lines.mergedByKey()
    }

    func get(_ path: String, _ query: [(String, String)], what: String) async throws -> BillingJSON {
        let url = configuration.baseURL.withoutTrailingSlash + path + "?" + Query.encode(query)
        let response = try await http.send(.GET, url, headers: headers, secrets: [adminKey], what: what)
        return try BillingJSON.parse(response.body)
    }

    /// Lines from Costs API pages: `data[].start_time` (unix seconds) is the day,
    /// `results[].amount.value` a JSON number in `amount.currency` (usd).
    static func costLines(_ pages: [BillingJSON], period: BillingPeriod, attribution: ModelAttribution) throws(BillingError) -> [BilledLine] {
        var lines: [BilledLine] = []
        for page in pages {
            guard let buckets = page["data"]?.arrayValue else {
                throw BillingError(.invalidResponse, "OpenAI costs: the page has no data array")
            }
            for bucket in buckets {
                guard let startText = bucket["start_time"]?.numberText, let start = Int64(startText) else {
                    throw BillingError(.invalidResponse, "OpenAI costs: a bucket has no start_time")
                }
                let day = BillingDay(unixSeconds: start)
                guard period.contains(day) else { continue }
                for result in bucket["results"]?.arrayValue ?? [] {
                    guard let amount = result["amount"], let valueText = amount["value"]?.numberText,
                          let value = DecimalText.canonical(valueText)
                    else { throw BillingError(.invalidResponse, "OpenAI costs: a result on \(day) has no amount.value") }
                    let currency = (amount.string("currency") ?? "usd").uppercased()
                    guard currency == "USD" else {
                        throw BillingError(.invalidResponse, "OpenAI costs: currency \(currency) on \(day) is not supported (USD only)")
                    }
                    let item = result.string("line_item") ?? ""
                    var label = item.isEmpty ? noLineItem : item
                    if let project = result.string("project_id"), !project.isEmpty { label += " [project \(project)]" }
                    lines.append(BilledLine(provider: "openai", day: day, model: attribution.openAILineItem(item),
                                            lineItem: label, amountUSD: value, currency: "USD"))
                }
            }
        }
        return lines
    }

    /// Token counts per day and catalog model from completions Usage pages
    /// (`results[].model`, `input_tokens`, `output_tokens`).
    static func usageWeights(_ pages: [BillingJSON], attribution: ModelAttribution) throws(BillingError) -> [BillingDay: [String: Int64]] {
        var weights: [BillingDay: [String: Int64]] = [:]
        for page in pages {
            guard let buckets = page["data"]?.arrayValue else {
                throw BillingError(.invalidResponse, "OpenAI usage: the page has no data array")
            }
            for bucket in buckets {
                guard let startText = bucket["start_time"]?.numberText, let start = Int64(startText) else {
                    throw BillingError(.invalidResponse, "OpenAI usage: a bucket has no start_time")
                }
                let day = BillingDay(unixSeconds: start)
                for result in bucket["results"]?.arrayValue ?? [] {
                    let model = attribution.model(provider: "openai", name: result.string("model") ?? "")
                    guard !model.isEmpty else { continue }
                    let tokens = ["input_tokens", "output_tokens"].compactMap { result[$0]?.numberText.flatMap { Int64($0) } }.reduce(0, +)
                    guard tokens > 0 else { continue }
                    weights[day, default: [:]][model, default: 0] += tokens
                }
            }
        }
        return weights
    }
}

/// Splits unattributed billed cost across models in proportion to their usage that day.
enum UsageSplit {
    /// Each unattributed line on a day with usage becomes one line per model, the shares
    /// truncated to pico-dollars and the remainder given to the heaviest model, so the parts
    /// add up to the original amount exactly.
    static func split(_ lines: [BilledLine], weights: [BillingDay: [String: Int64]]) -> [BilledLine] {
        var result: [BilledLine] = []
        for line in lines {
            guard line.model.isEmpty, let dayWeights = weights[line.day], !dayWeights.isEmpty,
                  let cost = DecimalText.cost(line.amountUSD), let pico = cost.picoUSD
            else {
                result.append(line)
                continue
            }
            let models = dayWeights.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            let total = Int128(models.reduce(0) { $0 + $1.value })
            var shares = models.map { pico * Int128($0.value) / total }
            shares[0] += pico - shares.reduce(0, +)
            for (index, (model, _)) in models.enumerated() where shares[index] != 0 {
                var part = line
                part.model = model
                part.lineItem = line.lineItem + " (split by usage)"
                part.amountUSD = USDCost(picoUSD: shares[index]).description
                result.append(part)
            }
        }
        return result
    }
}
