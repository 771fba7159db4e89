import Foundation
@testable import LLMLabBilling
import NIOHTTP1
import Testing

@Suite("Billing HTTP retry hints")
struct RetryHintTests {
    @Test("Retry-After (seconds or date), retry-after-ms and Azure's cost management headers; the largest wins")
    func hints() throws {
        #expect(BillingHTTPClient.retryHint(HTTPHeaders([("Retry-After", "3")])) == .seconds(3))
        #expect(BillingHTTPClient.retryHint(HTTPHeaders([("retry-after-ms", "250")])) == .milliseconds(250))
        #expect(BillingHTTPClient.retryHint(HTTPHeaders([
            ("x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after", "7"),
            ("x-ms-ratelimit-microsoft.costmanagement-entity-retry-after", "12"),
            ("x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after", "4"),
            ("retry-after", "5"),
        ])) == .seconds(12))
        let now = Date(timeIntervalSince1970: 1_772_323_200)  // 2026-03-01T00:00:00Z
        let date = HTTPHeaders([("Retry-After", "Sun, 01 Mar 2026 00:00:30 GMT")])
        #expect(BillingHTTPClient.retryHint(date, now: now) == .seconds(30))
        #expect(BillingHTTPClient.retryHint(HTTPHeaders([("Retry-After", "soon")])) == nil)
        #expect(BillingHTTPClient.retryHint(HTTPHeaders()) == nil)
    }

    @Test("error text is redacted and bounded; non-JSON bodies are not echoed")
    func redaction() {
        let secret = "sk-admin-0123456789abcdef"
        let text = BillingError.redacted("bad key \(secret) (…89abcdef)", secrets: [secret])
        #expect(!text.contains(secret) && !text.contains("89abcdef") && text.contains("[redacted]"))
        #expect(BillingError.redacted(String(repeating: "x", count: 1000), secrets: []).count == 301)
        #expect(BillingHTTPClient.errorDetail(Array("<html>internal page</html>".utf8)) == "")
        #expect(BillingHTTPClient.errorDetail(Array(#"{"error":{"message":"no access"}}"#.utf8)) == "no access")
        #expect(BillingHTTPClient.errorDetail(Array(#"{"error":"invalid_client","error_description":"bad secret"}"#.utf8)) == "invalid_client")
    }

    @Test("an unreachable API fails as a transport error within the total time bound")
    func unreachable() async throws {
        var configuration = BillingHTTPClient.Configuration()
        configuration.timeout = .seconds(2)
        configuration.maxTotalTime = .seconds(3)
        configuration.initialBackoff = .milliseconds(100)
        let http = BillingHTTPClient(configuration: configuration)
        let started = ContinuousClock.now
        do {
            _ = try await http.send(.GET, "http://127.0.0.1:1/v1/organization/costs", headers: HTTPHeaders(),
                                    secrets: ["sk-admin-xyz12345"], what: "OpenAI costs")
            Issue.record("expected a failure")
        } catch let error as BillingError {
            #expect(error.code == .transport && error.message.hasPrefix("OpenAI costs:"))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("connectors refuse incomplete settings without echoing the credential")
    func configuration() {
        #expect(throws: BillingError.self) {
            _ = try BillingConnectors.make(kind: .azure, settings: ["scope": "subscriptions/x"], credential: "client-secret-123",
                                           http: BillingHTTPClient())
        }
        do {
            _ = try BillingConnectors.make(kind: .azure, settings: [:], credential: "client-secret-123", http: BillingHTTPClient())
        } catch {
            #expect(error.code == .configuration && !error.message.contains("client-secret-123"))
        }
    }
}
