import NIOHTTP1

/// Azure Cost Management's Query API (`POST {base}/{scope}/providers/Microsoft.CostManagement/query`)
/// for Azure OpenAI spend: actual cost summed per day and meter, filtered to the Cognitive
/// Services resources Azure OpenAI bills under. A bearer token comes from the configured AAD
/// token endpoint by client credentials. Results come as `properties.columns` + `rows`,
/// paged by `properties.nextLink`; the API's 429 answers carry
/// `x-ms-ratelimit-microsoft.costmanagement-*-retry-after`, honoured by the HTTP client.
public struct AzureBillingConnector: BillingConnector {
    public struct Configuration: Sendable {
        public var baseURL = "https://management.azure.com"
        /// The AAD token endpoint; `{tenant}` is replaced by ``tenantID``.
        public var tokenURL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
        public var tokenScope = "https://management.azure.com/.default"
        public var apiVersion = "2023-11-01"
        /// A Cost Management scope: "subscriptions/{id}", ".../resourceGroups/{name}",
        /// "providers/Microsoft.Billing/billingAccounts/{id}".
        public var scope: String
        public var tenantID: String
        public var clientID: String
        /// `ServiceName` values kept (Azure OpenAI bills under Cognitive Services).
        public var serviceNames = ["Cognitive Services", "Azure OpenAI"]
        public static let maximumPages = 500

        public init(scope: String, tenantID: String, clientID: String) {
            self.scope = scope
            self.tenantID = tenantID
            self.clientID = clientID
        }
    }

    public let provider = "azure_openai"
    let clientSecret: String
    let configuration: Configuration
    let http: BillingHTTPClient
    let attribution: ModelAttribution

    public init(clientSecret: String, configuration: Configuration, http: BillingHTTPClient, attribution: ModelAttribution = .bundled) {
        self.clientSecret = clientSecret
        self.configuration = configuration
        self.http = http
        self.attribution = attribution
    }

    public func fetch(_ period: BillingPeriod) async throws -> [BilledLine] {
        let token = try await accessToken()
        let secrets = [clientSecret, token]
        var headers = HTTPHeaders()
        headers.add(name: "authorization", value: "Bearer \(token)")
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: "application/json")
        let body = Array(queryBody(period).utf8)
        var scope = configuration.scope
        while scope.hasPrefix("/") { scope.removeFirst() }
        var url: String? = configuration.baseURL.withoutTrailingSlash + "/" + scope
            + "/providers/Microsoft.CostManagement/query?api-version=" + Query.escape(configuration.apiVersion)
        var lines: [BilledLine] = []
        var seen: Set<String> = []
        while let next = url {
            guard seen.insert(next).inserted, seen.count <= Configuration.maximumPages else {
                throw BillingError(.invalidResponse, "Azure cost query: paging does not end (nextLink repeats)")
            }
            let response = try await http.send(.POST, next, headers: headers, body: body, secrets: secrets, what: "Azure cost query")
            let json = try BillingJSON.parse(response.body)
            lines += try Self.lines(json, period: period, attribution: attribution)
            url = json["properties"]?.string("nextLink").flatMap { $0.isEmpty ? nil : $0 }
        }
        return lines.mergedByKey()
    }

    /// Client credentials grant against the token endpoint.
    func accessToken() async throws -> String {
        let url = configuration.tokenURL.replacingPlaceholder("{tenant}", with: Query.escape(configuration.tenantID))
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        headers.add(name: "accept", value: "application/json")
        let form = Query.encode([("grant_type", "client_credentials"), ("client_id", configuration.clientID),
                                 ("client_secret", clientSecret), ("scope", configuration.tokenScope)])
        let response = try await http.send(.POST, url, headers: headers, body: Array(form.utf8), secrets: [clientSecret],
                                           what: "Azure AD token")
        guard let token = try BillingJSON.parse(response.body).string("access_token"), !token.isEmpty else {
            throw BillingError(.invalidResponse, "Azure AD token: the response has no access_token")
        }
        return token
    }

    /// The query: actual cost, custom time period, daily, summed, grouped by meter,
    /// filtered to the configured service names.
    func queryBody(_ period: BillingPeriod) -> String {
        let names = configuration.serviceNames.map { "\"\(Self.jsonEscape($0))\"" }.joined(separator: ",")
        return """
            {"type":"ActualCost","timeframe":"Custom",\
            "timePeriod":{"from":"\(period.first.rfc3339)","to":"\(period.last)T23:59:59Z"},\
            "dataset":{"granularity":"Daily","aggregation":{"totalCost":{"name":"Cost","function":"Sum"}},\
            "grouping":[{"type":"Dimension","name":"Meter"}],\
            "filter":{"dimensions":{"name":"ServiceName","operator":"In","values":[\(names)]}}}}
            """
    }

    /// Rows of one page, located by column name: the cost (`CostUSD` when present, else
    /// `Cost`/`PreTaxCost`/`totalCost` in `Currency`), `UsageDate` (yyyymmdd number or an
    /// ISO date) and `Meter`.
    static func lines(_ json: BillingJSON, period: BillingPeriod, attribution: ModelAttribution) throws(BillingError) -> [BilledLine] {
        guard let properties = json["properties"], let columns = properties["columns"]?.arrayValue,
              let rows = properties["rows"]?.arrayValue
        else { throw BillingError(.invalidResponse, "Azure cost query: the response has no properties.columns/rows") }
        let names = columns.map { ($0.string("name") ?? "").lowercased() }
        func column(_ candidates: [String]) -> Int? {
            for candidate in candidates { if let index = names.firstIndex(of: candidate.lowercased()) { return index } }
            return nil
        }
        let usdIndex = column(["CostUSD", "PreTaxCostUSD"])
        guard let costIndex = usdIndex ?? column(["Cost", "PreTaxCost", "totalCost"]),
              let dateIndex = column(["UsageDate", "Date"])
        else { throw BillingError(.invalidResponse, "Azure cost query: expected Cost and UsageDate columns, got \(names)") }
        let meterIndex = column(["Meter", "MeterName", "MeterSubcategory"])
        let currencyIndex = column(["Currency", "BillingCurrency"])
        var lines: [BilledLine] = []
        for (number, rowValue) in rows.enumerated() {
            guard let row = rowValue.arrayValue, row.count == names.count else {
                throw BillingError(.invalidResponse, "Azure cost query: row \(number + 1) does not match the columns")
            }
            guard let costText = row[costIndex].numberText, let amount = DecimalText.canonical(costText) else {
                throw BillingError(.invalidResponse, "Azure cost query: row \(number + 1) has no numeric cost")
            }
            let dateText = row[dateIndex].numberText ?? ""
            guard let day = BillingDay.parseCompact(dateText) ?? BillingDay.parse(dateText) else {
                throw BillingError(.invalidResponse, "Azure cost query: row \(number + 1) has UsageDate \"\(dateText)\"")
            }
            guard period.contains(day) else { continue }
            if usdIndex == nil, let currencyIndex {
                let currency = (row[currencyIndex].stringValue ?? "USD").uppercased()
                guard currency == "USD" else {
                    throw BillingError(.invalidResponse, "Azure cost query: row \(number + 1) is in \(currency); only USD billing is supported (or return CostUSD)")
                }
            }
            let meter = meterIndex.flatMap { row[$0].stringValue } ?? ""
            lines.append(BilledLine(provider: "azure_openai", day: day,
                                    model: attribution.mentionedModel(provider: "azure_openai", text: meter),
                                    lineItem: meter.isEmpty ? "(no meter)" : meter, amountUSD: amount, currency: "USD"))
        }
        return lines
    }

    static func jsonEscape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default:
                if scalar.value < 0x20 { result += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16) } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}

extension String {
    func replacingPlaceholder(_ placeholder: String, with value: String) -> String {
        split(separator: placeholder, omittingEmptySubsequences: false).joined(separator: value)
    }
}
