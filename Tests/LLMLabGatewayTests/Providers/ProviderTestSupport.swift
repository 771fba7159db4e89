import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabSecurity
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Helpers shared by the multi-provider proxy tests (``MultiProject``).
enum ProviderTestSupport {
    static func dec(_ text: String) -> Decimal { Decimal(string: text)! }
    static let million = dec("1000000")

    /// A streamed reply, with when its first piece reached the client.
    struct Streamed: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var text: String
        var firstPieceAt: ContinuousClock.Instant?

        /// The SSE events, without their blank-line terminators.
        var events: [String] { text.components(separatedBy: "\n\n").filter { !$0.isEmpty } }
        /// The JSON payloads of the `data:` lines (`[DONE]` excluded).
        var dataObjects: [[String: Any]] {
            text.components(separatedBy: "\n").compactMap { line -> [String: Any]? in
                guard line.hasPrefix("data: "), line != "data: [DONE]" else { return nil }
                return (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
            }
        }
    }

    static func post(_ harness: GatewayHarness, _ path: String, key: String?, headers: [(String, String)] = [],
                     body: String) async throws -> GatewayHarness.Reply {
        let auth = key.map { [("authorization", "Bearer \($0)")] } ?? []
        return try await harness.send(harness.request(.POST, path, headers: auth + headers, body: body))
    }

    static func stream(_ harness: GatewayHarness, _ path: String, key: String, headers: [(String, String)] = [],
                       body: String) async throws -> Streamed {
        let response = try await harness.client.execute(
            harness.request(.POST, path, headers: [("authorization", "Bearer \(key)")] + headers, body: body), timeout: .seconds(30))
        var text = ""
        var firstPieceAt: ContinuousClock.Instant?
        for try await piece in response.body {
            if firstPieceAt == nil { firstPieceAt = .now }
            text += String(buffer: piece)
        }
        return Streamed(status: Int(response.status.code), headers: response.headers, text: text, firstPieceAt: firstPieceAt)
    }

    /// The tenant's usage events, after the writer flushed.
    static func events(_ harness: GatewayHarness) async throws -> [UsageEventRecord] {
        await harness.gateway.usageWriter.flush()
        return try await UsageTests.events(harness)
    }

    static func messagesBody(model: String, stream: Bool? = nil, extra: String = "") -> String {
        var body = #"{"model":"\#(model)","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":"Say hello"}]"#
        if let stream { body += #","stream":\#(stream)"# }
        return body + extra + "}"
    }

    /// Sets route `alias` of `project` to `deployments` (provider, model, key id, priority).
    @discardableResult
    static func setRoute(_ harness: GatewayHarness, project: UUID, alias: String,
                         _ deployments: [(Provider, String, UUID, Int)]) async throws -> RouteRecord {
        defer { harness.configurationChanged() }
        return try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
            try await RouteRepository(connection, logger: GatewayHarness.logger).set(
                projectID: project, alias: alias, strategy: .weighted,
                deployments: deployments.map { RouteDeploymentRecord(provider: $0.0, model: $0.1, providerKeyID: $0.2, priority: $0.3) }).route
        }
    }

    /// Stores another provider key in `project` of the harness tenant, sealed as the control plane does.
    @discardableResult
    static func addProviderKey(_ harness: GatewayHarness, project: UUID, provider: Provider, name: String, secret: String,
                               azureEndpoint: String = "", azureDeployment: String = "", azureAPIVersion: String = "") async throws -> UUID {
        let tenantID = harness.tenantID
        let tenant = try await harness.database.database.withControlTransaction { connection in
            try await TenantRepository(connection, logger: GatewayHarness.logger).find(id: tenantID)
        }
        let dataKey = try harness.vault.unwrap([UInt8](try #require(tenant).wrappedDataKey), tenantID: tenantID.uuidString.lowercased())
        let id = UUID()
        let sealed = try dataKey.seal(secret, associatedData: ProviderKeyBinding.associatedData(tenantID: tenantID, keyID: id))
        defer { harness.configurationChanged() }
        try await harness.database.database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
            _ = try await ProviderKeyRepository(connection, logger: GatewayHarness.logger).insert(ProviderKeyRecord(
                id: id, projectID: project, provider: provider, name: name, sealedSecret: Data(sealed), lastFour: String(secret.suffix(4)),
                azureEndpoint: azureEndpoint, azureDeployment: azureDeployment, azureAPIVersion: azureAPIVersion))
        }
        return id
    }

    /// claude-sonnet-4-5 (catalog, provider anthropic, from 2025-09-29): input $3, cache read
    /// $0.30, 5-minute cache write $3.75, 1-hour cache write $6, output $15 per million.
    /// FakeAnthropic's usage: 12 uncached input, 4 read, 2 written for 5 min, 4 for 1 h, 5 out.
    ///   12 × 3 + 4 × 0.30 + 2 × 3.75 + 4 × 6 + 5 × 15 = 36 + 1.2 + 7.5 + 24 + 75 = 143.7 → $0.0001437
    static let claudeSonnetCost: Decimal = {
        let total = (dec("12") * dec("3") + dec("4") * dec("0.30") + dec("2") * dec("3.75") + dec("4") * dec("6")
                     + dec("5") * dec("15")) / million
        precondition(total == dec("0.0001437"))
        return total
    }()

    /// gemini-2.5-flash (catalog, provider gemini, from 2025-10-31): input $0.30, cached input
    /// $0.03, output $2.50 per million; thinking billed as output. FakeGemini's usage:
    /// prompt 12 of which 4 cached, 5 candidates, 2 thoughts.
    ///   8 × 0.30 + 4 × 0.03 + 5 × 2.50 + 2 × 2.50 = 2.4 + 0.12 + 12.5 + 5 = 20.02 → $0.00002002
    static let geminiFlashCost: Decimal = {
        let total = (dec("8") * dec("0.30") + dec("4") * dec("0.03") + dec("5") * dec("2.50") + dec("2") * dec("2.50")) / million
        precondition(total == dec("0.00002002"))
        return total
    }()

    /// gpt-4o-mini (catalog, provider azure_openai, from 2024-07-18): input $0.15, cached
    /// $0.075, output $0.60 per million. FakeOpenAI's usage: prompt 12 of which 4 cached;
    /// completion 5 of which 2 reasoning (billed as output).
    ///   8 × 0.15 + 4 × 0.075 + 3 × 0.60 + 2 × 0.60 = 1.2 + 0.3 + 1.8 + 1.2 = 4.5 → $0.0000045
    static let azureMiniCost: Decimal = {
        let total = (dec("8") * dec("0.15") + dec("4") * dec("0.075") + dec("3") * dec("0.60") + dec("2") * dec("0.60")) / million
        precondition(total == dec("0.0000045"))
        return total
    }()

    /// text-embedding-3-small (catalog, providers openai and azure_openai, from 2024-01-25):
    /// input $0.02 per million. FakeOpenAI's embeddings usage: 8 prompt tokens → $0.00000016.
    static let embeddingCost: Decimal = {
        let total = dec("8") * dec("0.02") / million
        precondition(total == dec("0.00000016"))
        return total
    }()
}
