import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Routes whose deployments are on different providers, and tenant isolation of routes.
@Suite("Routing across providers")
struct CrossProviderRoutingTests {
    typealias S = ProviderTestSupport

    static func overloadedThenGemini(_ harness: GatewayHarness) async throws -> RouteRecord {
        try await S.setRoute(harness, project: harness.multi.projectID, alias: "smart", [
            (.anthropic, "overloaded", try #require(harness.multi.keyIDs["anthropic"]), 0),
            (.gemini, "gemini-2.5-flash", try #require(harness.multi.keyIDs["gemini"]), 1),
        ])
    }

    @Test("Anthropic overloaded (retried once) → Gemini: the OpenAI client gets Gemini's answer; the event names the Gemini deployment")
    func fallbackAnthropicToGemini() async throws {
        try await GatewayHarness.with { harness in
            harness.gemini.setModelVersion("gemini-2.5-flash")
            let route = try await Self.overloadedThenGemini(harness)
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "smart"), key: harness.multi.proxyKey)
            #expect(reply.status == 200)
            #expect(reply.json["object"] as? String == "chat.completion")
            let message = (reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "Hello there!")
            #expect(reply.json["model"] as? String == "gemini-2.5-flash")
            #expect(harness.anthropic.received.count == 2)
            #expect(harness.anthropic.received.allSatisfy { $0.json["model"] as? String == "overloaded" })
            #expect(harness.gemini.received.map(\.path) == ["/v1beta/models/gemini-2.5-flash:generateContent"])
            #expect(harness.gemini.received.first?.apiKey == harness.multi.geminiSecret)
            #expect(S.dec(try #require(reply.headers.first(name: "x-llmlab-cost-usd"))) == S.geminiFlashCost)

            let event = try #require(try await S.events(harness).first)
            #expect(event.routeID == route.id)
            #expect(event.deployment == "gemini:gemini-2.5-flash@default")
            #expect(event.provider == "gemini")
            #expect(event.model == "gemini-2.5-flash")
            #expect(event.status == 200)
            #expect(S.dec(try #require(event.costUSD)) == S.geminiFlashCost)
        }
    }

    @Test("streaming: the first deployment fails before its first byte, the stream comes from the next")
    func streamingFallback() async throws {
        try await GatewayHarness.with { harness in
            try await Self.overloadedThenGemini(harness)
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "smart", stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.events.last == "data: [DONE]")
            let deltas = streamed.dataObjects.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
            #expect(deltas.joined() == "Hello there!")
            #expect(!streamed.text.contains("Overloaded"))
            #expect(harness.anthropic.received.count == 2)
            #expect(harness.gemini.received.map(\.path) == ["/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"])
            let event = try #require(try await S.events(harness).first)
            #expect(event.deployment == "gemini:gemini-2.5-flash@default")
            #expect(event.streamed)
        }
    }

    @Test("a stream that breaks after only its preamble (message_start) still falls back: the client sees one clean stream")
    func fallbackAfterPreamble() async throws {
        try await GatewayHarness.with { harness in
            // `broken-stream` sends message_start and an empty text block's start, then drops
            // the connection: nothing but the role prelude would have reached the client, so
            // the proxy retries (once, same deployment) and then falls back to Gemini.
            try await S.setRoute(harness, project: harness.multi.projectID, alias: "smart", [
                (.anthropic, "broken-stream", try #require(harness.multi.keyIDs["anthropic"]), 0),
                (.gemini, "gemini-2.5-flash", try #require(harness.multi.keyIDs["gemini"]), 1),
            ])
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "smart", stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.text.hasSuffix("data: [DONE]\n\n"))
            #expect(!streamed.dataObjects.contains { $0["error"] != nil })
            let roles = streamed.dataObjects.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["role"] }
            #expect(roles.count == 1)
            #expect(harness.anthropic.received.count == 2)
            #expect(harness.gemini.received.count == 1)
            let event = try #require(try await S.events(harness).first)
            #expect(event.deployment == "gemini:gemini-2.5-flash@default")
            #expect(event.status == 200)
        }
    }

    @Test("a stream that fails after model output reached the client does not fall back: the client gets an OpenAI error event; the event is a 502")
    func noFallbackAfterOutput() async throws {
        try await GatewayHarness.with { harness in
            // `mid-stream-error` sends text, then an overloaded error event.
            try await S.setRoute(harness, project: harness.multi.projectID, alias: "smart", [
                (.anthropic, "mid-stream-error", try #require(harness.multi.keyIDs["anthropic"]), 0),
                (.gemini, "gemini-2.5-flash", try #require(harness.multi.keyIDs["gemini"]), 1),
            ])
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "smart", stream: true))
            #expect(streamed.status == 200)
            let first = try #require(streamed.dataObjects.first)
            #expect(((first["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["role"] as? String == "assistant")
            #expect(streamed.dataObjects.last?["error"] != nil)
            #expect(!streamed.text.contains("[DONE]"))
            #expect(harness.anthropic.received.count == 1)
            #expect(harness.gemini.received.isEmpty)
            let event = try #require(try await S.events(harness).first)
            #expect(event.deployment == "anthropic:mid-stream-error@default")
            #expect(event.status == 502)
        }
    }

    @Test("tenant isolation: another tenant's key naming this tenant's route alias gets its own routing, never this route")
    func tenantIsolation() async throws {
        try await GatewayHarness.with { harness in
            try await S.setRoute(harness, project: harness.multi.projectID, alias: "smart", [
                (.anthropic, "claude-sonnet-4-5", try #require(harness.multi.keyIDs["anthropic"]), 0),
            ])
            let other = try await Seed.create(in: harness.database.database, vault: harness.vault, slug: "globex", logger: GatewayHarness.logger)
            harness.configurationChanged()

            // This tenant: the route goes to Anthropic.
            #expect(try await harness.chat(GatewayHarness.chatBody(model: "smart"), key: harness.multi.proxyKey).status == 200)
            #expect(harness.anthropic.received.count == 1)

            // The other tenant's project has no route 'smart': its own (OpenAI) key serves the name as given.
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "smart"), key: other.proxyKey)
            #expect(reply.status == 200)
            #expect(harness.anthropic.received.count == 1)
            let received = try #require(harness.fake.received.last)
            #expect(received.json["model"] as? String == "smart")
            #expect(received.authorization == "Bearer \(other.openAISecret)")

            // A key of the other tenant with no provider keys: 404 model_not_found, not this tenant's route.
            let keyless = try await harness.chat(GatewayHarness.chatBody(model: "smart"), key: other.keylessProjectKey)
            #expect(keyless.status == 404)
            #expect(keyless.error["code"] as? String == "model_not_found")
            #expect(harness.anthropic.received.count == 1)

            // Usage of each tenant stays in its own schema.
            let events = try await S.events(harness)
            #expect(events.allSatisfy { $0.tenantID == harness.tenantID })
            #expect(events.contains { $0.provider == "anthropic" })
            #expect(!events.contains { $0.model == "smart" && $0.provider == "openai" })
        }
    }
}
