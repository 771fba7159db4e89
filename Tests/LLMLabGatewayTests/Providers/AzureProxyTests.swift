import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Azure OpenAI keys of the multi-provider project (endpoint = the FakeOpenAI root).
@Suite("Azure OpenAI")
struct AzureProxyTests {
    typealias S = ProviderTestSupport

    @Test("a model equal to the key's deployment: /openai/deployments/{d}/chat/completions?api-version=…, api-key header; priced with the response model")
    func deploymentURL() async throws {
        try await GatewayHarness.with { harness in
            harness.fake.setReportedModel("gpt-4o-mini-2024-07-18")
            let reply = try await harness.chat(GatewayHarness.chatBody(model: MultiProject.azureDeployment), key: harness.multi.proxyKey)
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "gpt-4o-mini-2024-07-18")
            #expect(S.dec(try #require(reply.headers.first(name: "x-llmlab-cost-usd"))) == S.azureMiniCost)

            #expect(harness.fake.received.count == 1)
            let received = try #require(harness.fake.received.first)
            #expect(received.path == "/openai/deployments/\(MultiProject.azureDeployment)/chat/completions")
            #expect(received.query == "api-version=\(MultiProject.azureAPIVersion)")
            #expect(received.apiKey == harness.multi.azureSecret)
            #expect(received.authorization == nil)

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "azure_openai")
            #expect(event.model == MultiProject.azureDeployment)
            #expect(event.responseModel == "gpt-4o-mini-2024-07-18")
            #expect(event.inputTokens == 8 && event.cachedInputTokens == 4)
            #expect(event.outputTokens == 3 && event.reasoningTokens == 2)
            #expect(event.priced)
            #expect(S.dec(try #require(event.costUSD)) == S.azureMiniCost)
        }
    }

    @Test("api version v1: /openai/v1/chat/completions with the deployment as the body's model, no api-version")
    func v1URL() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.chat(GatewayHarness.chatBody(model: MultiProject.azureV1Deployment), key: harness.multi.proxyKey)
            #expect(reply.status == 200)
            let received = try #require(harness.fake.received.first)
            #expect(received.path == "/openai/v1/chat/completions")
            #expect(received.query == "")
            #expect(received.apiKey == harness.multi.azureV1Secret)
            #expect(received.authorization == nil)
            #expect(received.json["model"] as? String == MultiProject.azureV1Deployment)
            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "azure_openai")
        }
    }

    @Test("streaming through Azure: chunks pass through with [DONE]; the event is azure_openai")
    func streaming() async throws {
        try await GatewayHarness.with { harness in
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: MultiProject.azureDeployment, stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.events.last == "data: [DONE]")
            let received = try #require(harness.fake.received.first)
            #expect(received.path == "/openai/deployments/\(MultiProject.azureDeployment)/chat/completions")
            #expect(received.apiKey == harness.multi.azureSecret)
            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "azure_openai")
            #expect(event.streamed)
        }
    }
}
