import Foundation
import LLMLabBilling
import Synchronization
import Testing

/// Each connector against a fake server speaking the provider's documented shapes: paging,
/// 429 with retry hints then success, exact amounts, credentials kept out of errors.
@Suite("Billing connectors")
struct ConnectorTests {
    static let period = BillingPeriod(first: BillingDay.parse("2026-03-01")!, last: BillingDay.parse("2026-03-02")!)
    static let day1 = BillingDay.parse("2026-03-01")!.unixSeconds
    static let day2 = BillingDay.parse("2026-03-02")!.unixSeconds

    static func http(_ recorder: SleepRecorder, attempts: Int = 5) -> BillingHTTPClient {
        var configuration = BillingHTTPClient.Configuration()
        configuration.maxAttempts = attempts
        configuration.timeout = .seconds(10)
        return BillingHTTPClient(configuration: configuration, sleep: recorder.sleep)
    }

    @Test("OpenAI: costs pages followed to the end, line items attributed, the rest split by usage")
    func openAI() async throws {
        let key = "sk-admin-TESTKEY-1234567890"
        let server = FakeBillingServer { request, _ in
            guard request.headers["authorization"] == "Bearer \(key)" else { return .init(status: 401, body: #"{"error":{"message":"bad key"}}"#) }
            switch (request.path, request.value("page")) {
            case ("/v1/organization/costs", nil):
                return .json("""
                    {"object":"page","data":[{"object":"bucket","start_time":\(Self.day1),"end_time":\(Self.day2),"results":[
                      {"object":"organization.costs.result","amount":{"value":0.06,"currency":"usd"},"line_item":"gpt-4o-2024-08-06, input","project_id":null},
                      {"object":"organization.costs.result","amount":{"value":1.2e-05,"currency":"usd"},"line_item":"gpt-4o-2024-08-06, output","project_id":"proj_a"}
                    ]}],"has_more":true,"next_page":"page_2"}
                    """)
            case ("/v1/organization/costs", "page_2"):
                return .json("""
                    {"object":"page","data":[{"object":"bucket","start_time":\(Self.day2),"end_time":\(Self.day2 + 86400),"results":[
                      {"object":"organization.costs.result","amount":{"value":1.0,"currency":"usd"},"line_item":null,"project_id":null},
                      {"object":"organization.costs.result","amount":{"value":0.25,"currency":"usd"},"line_item":"Web search tool calls","project_id":null}
                    ]}],"has_more":false,"next_page":null}
                    """)
            case ("/v1/organization/usage/completions", _):
                return .json("""
                    {"object":"page","data":[{"object":"bucket","start_time":\(Self.day2),"end_time":\(Self.day2 + 86400),"results":[
                      {"object":"organization.usage.completions.result","input_tokens":200,"output_tokens":100,"input_cached_tokens":0,"num_model_requests":3,"model":"gpt-4o-mini-2024-07-18"},
                      {"object":"organization.usage.completions.result","input_tokens":600,"output_tokens":0,"num_model_requests":1,"model":"gpt-4o-2024-08-06"}
                    ]}],"has_more":false,"next_page":null}
                    """)
            default:
                return .init(status: 404, body: "{}")
            }
        }
        let recorder = SleepRecorder()
        let lines = try await server.serving { base in
            var configuration = OpenAIBillingConnector.Configuration()
            configuration.baseURL = base
            return try await OpenAIBillingConnector(adminKey: key, configuration: configuration, http: Self.http(recorder)).fetch(Self.period)
        }
        let costs = server.requests.filter { $0.path == "/v1/organization/costs" }
        #expect(costs.count == 2)
        let first = try #require(costs.first)
        #expect(first.value("start_time") == String(Self.day1) && first.value("end_time") == String(Self.day2 + 86400))
        #expect(first.value("bucket_width") == "1d" && first.values("group_by") == ["line_item", "project_id"])
        #expect(costs[1].value("page") == "page_2")
        let usage = try #require(server.requests.first { $0.path == "/v1/organization/usage/completions" })
        #expect(usage.value("group_by") == "model" && usage.value("bucket_width") == "1d")
        #expect(lines.count == 5)
        // A named line item the catalog does not know stays unattributed (it is not model usage).
        #expect(lines.first { $0.lineItem == "Web search tool calls" }?.model == "")
        #expect(lines[0] == BilledLine(provider: "openai", day: Self.period.first, model: "gpt-4o", lineItem: "gpt-4o-2024-08-06, input", amountUSD: "0.06"))
        #expect(lines[1].amountUSD == "0.000012" && lines[1].lineItem == "gpt-4o-2024-08-06, output [project proj_a]")
        // $1 unattributed on day 2: 600 of 900 tokens to gpt-4o, 300 to gpt-4o-mini, exactly.
        let split = lines.filter { $0.day == Self.period.last && $0.lineItem.hasSuffix("(split by usage)") }
        #expect(Set(split.map(\.model)) == ["gpt-4o", "gpt-4o-mini"])
        #expect(split.first { $0.model == "gpt-4o" }?.amountUSD == "0.666666666667")
        #expect(split.first { $0.model == "gpt-4o-mini" }?.amountUSD == "0.333333333333")
        #expect(DecimalText.sum(split.map(\.amountUSD)) == "1")
        #expect(recorder.recorded.isEmpty)
    }

    @Test("Anthropic: cents to USD exactly, paging, a 429 with retry-after honoured, then success")
    func anthropic() async throws {
        let key = "sk-ant-admin01-SECRETSECRET"
        let counter = AttemptCounter()
        let server = FakeBillingServer { request, _ in
            guard request.headers["x-api-key"] == key, request.headers["anthropic-version"] == "2023-06-01" else {
                return .init(status: 401, body: "{}")
            }
            if request.path == "/v1/organizations/cost_report" {
                if request.value("page") == nil {
                    return .json("""
                        {"data":[{"starting_at":"2026-03-01T00:00:00Z","ending_at":"2026-03-02T00:00:00Z","results":[
                          {"currency":"USD","amount":"123.78912","workspace_id":null,"description":"Claude Sonnet 4 Usage - Input Tokens","cost_type":"tokens","context_window":"0-200k","model":"claude-sonnet-4-20250514","service_tier":"standard","token_type":"uncached_input_tokens"},
                          {"currency":"USD","amount":"50","workspace_id":null,"description":"Web Search","cost_type":"web_search","model":null}
                        ]}],"has_more":true,"next_page":"page_MjAyNi0wMy0wMg=="}
                        """)
                }
                // The second page is rate limited once.
                let attempts = counter.increment()
                if attempts == 1 { return .init(status: 429, headers: ["retry-after": "2"], body: #"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#) }
                return .json("""
                    {"data":[{"starting_at":"2026-03-02T00:00:00Z","ending_at":"2026-03-03T00:00:00Z","results":[
                      {"currency":"USD","amount":"0.1","description":"Claude Sonnet 4 Usage - Output Tokens","cost_type":"tokens","model":"claude-sonnet-4-20250514","token_type":"output_tokens"},
                      {"currency":"USD","amount":"10","description":"Claude Haiku Usage","cost_type":"tokens","model":null}
                    ]}],"has_more":false,"next_page":null}
                    """)
            }
            if request.path == "/v1/organizations/usage_report/messages" {
                return .json("""
                    {"data":[{"starting_at":"2026-03-02T00:00:00Z","ending_at":"2026-03-03T00:00:00Z","results":[
                      {"uncached_input_tokens":10,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"cache_read_input_tokens":0,"output_tokens":0,"model":"claude-haiku-4-5-20251001"}
                    ]}],"has_more":false,"next_page":null}
                    """)
            }
            return .init(status: 404, body: "{}")
        }
        let recorder = SleepRecorder()
        let lines = try await server.serving { base in
            var configuration = AnthropicBillingConnector.Configuration()
            configuration.baseURL = base
            return try await AnthropicBillingConnector(adminKey: key, configuration: configuration, http: Self.http(recorder)).fetch(Self.period)
        }
        let first = try #require(server.requests.first)
        #expect(first.value("starting_at") == "2026-03-01T00:00:00Z" && first.value("ending_at") == "2026-03-03T00:00:00Z")
        #expect(first.value("group_by[]") == "description" && first.value("bucket_width") == "1d")
        #expect(server.requests.filter { $0.value("page") == "page_MjAyNi0wMy0wMg==" }.count == 2)
        #expect(recorder.recorded == [.seconds(2)])
        #expect(lines.first { $0.lineItem == "Claude Sonnet 4 Usage - Input Tokens" }?.amountUSD == "1.2378912")
        #expect(lines.first { $0.lineItem == "Claude Sonnet 4 Usage - Input Tokens" }?.model == "claude-sonnet-4-0")
        #expect(lines.first { $0.lineItem == "Web Search" }?.amountUSD == "0.5")
        #expect(lines.first { $0.lineItem == "Web Search" }?.model == "")
        #expect(lines.first { $0.lineItem == "Claude Sonnet 4 Usage - Output Tokens" }?.amountUSD == "0.001")
        // Token cost without a model is split by the usage report (one model that day).
        #expect(lines.first { $0.lineItem == "Claude Haiku Usage (split by usage)" }?.model == "claude-haiku-4-5")
        #expect(lines.first { $0.lineItem == "Claude Haiku Usage (split by usage)" }?.amountUSD == "0.1")
    }

    @Test("Azure: client-credentials token, query body, nextLink paging, 429 with cost management retry headers")
    func azure() async throws {
        let secret = "azure-client-secret-VALUE"
        let counter = AttemptCounter()
        let server = FakeBillingServer { request, base in
            if request.path == "/tenant-1/oauth2/v2.0/token" {
                let form = String(decoding: request.body, as: UTF8.self)
                guard form.contains("grant_type=client_credentials"), form.contains("client_id=app-1"),
                      form.contains("client_secret=\(secret)") else { return .init(status: 400, body: #"{"error_description":"bad"}"#) }
                return .json(#"{"token_type":"Bearer","expires_in":3599,"access_token":"tok-123"}"#)
            }
            guard request.headers["authorization"] == "Bearer tok-123" else { return .init(status: 401, body: "{}") }
            guard request.path == "/subscriptions/sub-1/providers/Microsoft.CostManagement/query",
                  request.value("api-version") == "2023-11-01" else { return .init(status: 404, body: "{}") }
            if request.value("$skiptoken") == nil {
                let attempts = counter.increment()
                if attempts == 1 {
                    return .init(status: 429, headers: ["x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "7",
                                                        "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after": "3"],
                                 body: #"{"error":{"code":"429","message":"Too many requests"}}"#)
                }
                return .json("""
                    {"id":"x","name":"y","type":"Microsoft.CostManagement/query","properties":{
                      "nextLink":"\(base)/subscriptions/sub-1/providers/Microsoft.CostManagement/query?api-version=2023-11-01&$skiptoken=abc",
                      "columns":[{"name":"Cost","type":"Number"},{"name":"UsageDate","type":"Number"},{"name":"Meter","type":"String"},{"name":"Currency","type":"String"}],
                      "rows":[[2.1,20260301,"gpt-4o-0806-Inp-glbl 1M Tokens","USD"],[0.30000000000000004,20260301,"gpt-4o-mini-0718-Outp-glbl 1M Tokens","USD"]]}}
                    """)
            }
            return .json("""
                {"properties":{"nextLink":null,
                  "columns":[{"name":"Cost","type":"Number"},{"name":"UsageDate","type":"Number"},{"name":"Meter","type":"String"},{"name":"Currency","type":"String"}],
                  "rows":[[1,20260302,"Standard Training Hour","USD"],[5,20260228,"gpt-4o-0806-Inp-glbl 1M Tokens","USD"]]}}
                """)
        }
        let recorder = SleepRecorder()
        let lines = try await server.serving { base in
            var configuration = AzureBillingConnector.Configuration(scope: "/subscriptions/sub-1", tenantID: "tenant-1", clientID: "app-1")
            configuration.baseURL = base
            configuration.tokenURL = base + "/{tenant}/oauth2/v2.0/token"
            return try await AzureBillingConnector(clientSecret: secret, configuration: configuration, http: Self.http(recorder)).fetch(Self.period)
        }
        #expect(recorder.recorded == [.seconds(7)])
        let query = try #require(server.requests.first { $0.path.hasSuffix("/query") })
        let body = try BillingJSON.parse(query.body)
        #expect(body.string("type") == "ActualCost" && body.string("timeframe") == "Custom")
        #expect(body["timePeriod"]?.string("from") == "2026-03-01T00:00:00Z")
        #expect(body["dataset"]?.string("granularity") == "Daily")
        #expect(body["dataset"]?["filter"]?["dimensions"]?.string("name") == "ServiceName")
        #expect(lines.count == 3)
        #expect(lines[0] == BilledLine(provider: "azure_openai", day: Self.period.first, model: "gpt-4o",
                                       lineItem: "gpt-4o-0806-Inp-glbl 1M Tokens", amountUSD: "2.1"))
        #expect(lines[1].model == "gpt-4o-mini" && lines[1].amountUSD == "0.3")
        #expect(lines[2].model == "" && lines[2].day == Self.period.last)
    }

    @Test("errors: a rejected key is never echoed; 5xx retries are bounded; bad shapes are named")
    func errors() async throws {
        let key = "sk-admin-LEAKY-0123456789abcdef"
        let server = FakeBillingServer { request, _ in
            switch request.path {
            case "/v1/organization/costs":
                return .init(status: 401, body: #"{"error":{"message":"Incorrect API key provided: \#(key)"}}"#)
            case "/v1/organizations/cost_report":
                return .init(status: 503, body: "upstream down")
            default:
                return .json(#"{"data": 5}"#)
            }
        }
        let recorder = SleepRecorder()
        try await server.serving { base in
            var openAI = OpenAIBillingConnector.Configuration()
            openAI.baseURL = base
            do {
                _ = try await OpenAIBillingConnector(adminKey: key, configuration: openAI, http: Self.http(recorder)).fetch(Self.period)
                Issue.record("expected a failure")
            } catch let error as BillingError {
                #expect(error.code == .unauthorized)
                #expect(!error.message.contains(key) && !error.message.contains("0123456789abcdef"))
                #expect(!error.description.contains(key))
            }
            var anthropic = AnthropicBillingConnector.Configuration()
            anthropic.baseURL = base
            do {
                _ = try await AnthropicBillingConnector(adminKey: key, configuration: anthropic, http: Self.http(recorder, attempts: 3)).fetch(Self.period)
                Issue.record("expected a failure")
            } catch let error as BillingError {
                #expect(error.code == .httpStatus && error.message.contains("503"))
            }
            #expect(recorder.recorded == [.seconds(1), .seconds(2)])
            var bad = AnthropicBillingConnector.Configuration()
            bad.baseURL = base + "/elsewhere"
            await #expect(throws: BillingError.self) {
                _ = try await AnthropicBillingConnector(adminKey: key, configuration: bad, http: Self.http(recorder)).fetch(Self.period)
            }
        }
        #expect(server.requests.filter { $0.path == "/v1/organization/costs" }.count == 1)
        #expect(server.requests.filter { $0.path == "/v1/organizations/cost_report" }.count == 3)
    }
}

/// Counts requests in a fake server's handler (to fail only the first).
final class AttemptCounter: Sendable {
    private let counts = Mutex<Int>(0)
    func increment() -> Int { counts.withLock { $0 += 1; return $0 } }
}
