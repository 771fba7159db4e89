import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// `POST /v1/embeddings` end to end.
@Suite("Embeddings")
struct EmbeddingsTests {
    typealias S = ProviderTestSupport

    static let body = #"{"model":"text-embedding-3-small","input":"The food was delicious and the waiter...","encoding_format":"float"}"#

    @Test("→ OpenAI: passed through byte for byte; cost = prompt_tokens × the catalog's input price")
    func openAI() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await S.post(harness, "/v1/embeddings", key: harness.proxyKey, body: Self.body)
            #expect(reply.status == 200)
            #expect(reply.json["object"] as? String == "list")
            let data = try #require((reply.json["data"] as? [[String: Any]])?.first)
            #expect((data["embedding"] as? [Double])?.count == 3)
            #expect(S.dec(try #require(reply.headers.first(name: "x-llmlab-cost-usd"))) == S.embeddingCost)

            let received = try #require(harness.fake.received.first)
            #expect(received.path == "/v1/embeddings")
            #expect(received.authorization == "Bearer \(harness.openAISecret)")
            #expect(received.body == Array(Self.body.utf8))

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "openai")
            #expect(event.model == "text-embedding-3-small")
            #expect(event.inputTokens == 8 && event.outputTokens == 0)
            #expect(event.priced)
            #expect(S.dec(try #require(event.costUSD)) == S.embeddingCost)
        }
    }

    @Test("→ Azure: /openai/deployments/{d}/embeddings?api-version=… with api-key; priced from the azure_openai entry")
    func azure() async throws {
        try await GatewayHarness.with { harness in
            let secret = "azure-embed-fake-secret-1234"
            // Same endpoint as the harness's Azure keys (the FakeOpenAI root).
            try await S.addProviderKey(harness, project: harness.multi.projectID, provider: .azureOpenAI, name: "embed", secret: secret,
                                       azureEndpoint: try await Self.azureEndpoint(harness),
                                       azureDeployment: "text-embedding-3-small", azureAPIVersion: MultiProject.azureAPIVersion)
            let reply = try await S.post(harness, "/v1/embeddings", key: harness.multi.proxyKey, body: Self.body)
            #expect(reply.status == 200)
            let received = try #require(harness.fake.received.first)
            #expect(received.path == "/openai/deployments/text-embedding-3-small/embeddings")
            #expect(received.query == "api-version=\(MultiProject.azureAPIVersion)")
            #expect(received.apiKey == secret)
            #expect(received.authorization == nil)
            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "azure_openai")
            #expect(S.dec(try #require(event.costUSD)) == S.embeddingCost)
        }
    }

    /// The Azure endpoint the harness stored (the FakeOpenAI root).
    static func azureEndpoint(_ harness: GatewayHarness) async throws -> String {
        let tenantID = harness.tenantID
        let projectID = harness.multi.projectID
        let keys = try await harness.database.database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
            try await ProviderKeyRepository(connection, logger: GatewayHarness.logger).list(projectID: projectID)
        }
        return try #require(keys.first { $0.provider == .azureOpenAI }).azureEndpoint
    }

    @Test("a project with only an Anthropic key: an OpenAI embedding model is 404 naming the provider key to add; nothing sent upstream")
    func anthropicOnlyProject() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await S.post(harness, "/v1/embeddings", key: harness.multi.anthropicOnlyKey, body: Self.body)
            #expect(reply.status == 404)
            #expect(reply.error["code"] as? String == "model_not_found")
            let message = reply.error["message"] as? String ?? ""
            #expect(message.contains("OpenAI model"))
            #expect(message.contains("--provider openai"))
            #expect(harness.anthropic.received.isEmpty && harness.fake.received.isEmpty)
        }
    }

    @Test("a project with only an Anthropic key: a model no provider claims is 400 saying Anthropic has no embeddings API")
    func anthropicOnlyProjectUnknownModel() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await S.post(harness, "/v1/embeddings", key: harness.multi.anthropicOnlyKey,
                                         body: #"{"model":"house-embedder","input":"hello"}"#)
            #expect(reply.status == 400)
            #expect(reply.error["code"] as? String == "unsupported_operation")
            let message = reply.error["message"] as? String ?? ""
            #expect(message.contains("Anthropic has no embeddings API"))
            #expect(harness.anthropic.received.isEmpty && harness.fake.received.isEmpty)
        }
    }

    @Test("a body without input: 400 naming `input`")
    func missingInput() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await S.post(harness, "/v1/embeddings", key: harness.proxyKey, body: #"{"model":"text-embedding-3-small"}"#)
            #expect(reply.status == 400)
            let named = (reply.error["param"] as? String == "input") || ((reply.error["message"] as? String)?.contains("input") == true)
            #expect(named)
            #expect(harness.fake.received.isEmpty)
        }
    }
}
