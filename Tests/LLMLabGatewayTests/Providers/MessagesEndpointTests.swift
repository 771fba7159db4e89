import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// `POST /v1/messages` (Anthropic's API) end to end: passed through to Anthropic,
/// translated for OpenAI, and the proxy's own errors in Anthropic's shape.
@Suite("Messages endpoint")
struct MessagesEndpointTests {
    typealias S = ProviderTestSupport

    static let clientHeaders = [("anthropic-version", "2023-06-01"), ("anthropic-beta", "prompt-caching-2024-07-31")]

    @Test("→ Anthropic, non-streaming: body and client headers forwarded, the answer passes through unchanged; priced event")
    func passthrough() async throws {
        try await GatewayHarness.with { harness in
            let body = S.messagesBody(model: "claude-sonnet-4-5")
            let reply = try await harness.send(harness.request(.POST, "/v1/messages",
                                                               headers: [("x-api-key", harness.multi.proxyKey)] + Self.clientHeaders, body: body))
            #expect(reply.status == 200)
            #expect(reply.json["type"] as? String == "message")
            #expect(reply.json["id"] as? String == FakeAnthropic.messageID)
            #expect(reply.body.contains(#""usage":"# + FakeAnthropic.usageJSON))  // Anthropic's usage, untouched
            #expect(reply.headers.first(name: "request-id") == "req_fake_upstream_1")
            #expect(S.dec(try #require(reply.headers.first(name: "x-llmlab-cost-usd"))) == S.claudeSonnetCost)

            let received = try #require(harness.anthropic.received.first)
            #expect(received.path == "/v1/messages")
            #expect(received.apiKey == harness.multi.anthropicSecret)
            #expect(received.anthropicVersion == "2023-06-01")
            #expect(received.anthropicBeta == "prompt-caching-2024-07-31")
            #expect(received.body == Array(body.utf8))

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "anthropic")
            #expect(event.model == "claude-sonnet-4-5")
            #expect(event.cacheWrite5mTokens == 2 && event.cacheWrite1hTokens == 4 && event.cachedInputTokens == 4)
            #expect(S.dec(try #require(event.costUSD)) == S.claudeSonnetCost)
        }
    }

    @Test("the client's anthropic-version wins over the proxy's default, and is sent once")
    func clientVersionWins() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.send(harness.request(.POST, "/v1/messages",
                                                               headers: [("x-api-key", harness.multi.proxyKey), ("anthropic-version", "2024-01-01")],
                                                               body: S.messagesBody(model: "claude-sonnet-4-5")))
            #expect(reply.status == 200)
            #expect(harness.anthropic.received.first?.anthropicVersion == "2024-01-01")
            #expect(harness.anthropic.received.first?.anthropicBeta == nil)
        }
    }

    @Test("→ Anthropic, streaming: the bytes pass through unchanged and incrementally; priced streamed event")
    func passthroughStreaming() async throws {
        try await GatewayHarness.with { harness in
            let streamed = try await S.stream(harness, "/v1/messages", key: harness.multi.proxyKey, headers: Self.clientHeaders,
                                              body: S.messagesBody(model: "claude-sonnet-4-5", stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            #expect(streamed.text == FakeAnthropic.streamEvents(model: "claude-sonnet-4-5", toolName: nil).joined())
            let lastSent = try #require(harness.anthropic.lastEventSentAt)
            #expect(try #require(streamed.firstPieceAt) < lastSent)
            #expect(harness.anthropic.received.first?.anthropicBeta == "prompt-caching-2024-07-31")

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "anthropic")
            #expect(event.streamed)
            #expect(event.outputTokens == 5)
            #expect(S.dec(try #require(event.costUSD)) == S.claudeSonnetCost)
        }
    }

    @Test("→ OpenAI (`openai/gpt-4o-mini`): translated to Chat Completions, the answer comes back as an Anthropic message")
    func toOpenAI() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.send(harness.request(.POST, "/v1/messages",
                                                               headers: [("x-api-key", harness.multi.proxyKey)] + Self.clientHeaders,
                                                               body: S.messagesBody(model: "openai/gpt-4o-mini")))
            #expect(reply.status == 200)
            #expect(reply.json["type"] as? String == "message")
            #expect(reply.json["role"] as? String == "assistant")
            let content = try #require(reply.json["content"] as? [[String: Any]])
            #expect(content.first?["type"] as? String == "text")
            #expect(content.first?["text"] as? String == "Hello there!")
            #expect(reply.json["stop_reason"] as? String == "end_turn")
            let usage = try #require(reply.json["usage"] as? [String: Any])
            #expect(usage["output_tokens"] as? Int == 5)

            #expect(harness.anthropic.received.isEmpty)
            let received = try #require(harness.fake.received.first)
            #expect(received.path == "/v1/chat/completions")
            #expect(received.authorization == "Bearer \(harness.multi.openAISecret)")
            let sent = received.json
            #expect(sent["model"] as? String == "gpt-4o-mini")
            let messages = try #require(sent["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String ?? "" } == ["system", "user"])
            #expect(sent["max_tokens"] as? Int == 256 || sent["max_completion_tokens"] as? Int == 256)

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "openai")
            #expect(event.priced)
        }
    }

    @Test("→ OpenAI via a route, streaming: Anthropic stream events translated from OpenAI chunks")
    func toOpenAIViaRouteStreaming() async throws {
        try await GatewayHarness.with { harness in
            try await S.setRoute(harness, project: harness.multi.projectID, alias: "house",
                                 [(.openai, "gpt-4o-mini", try #require(harness.multi.keyIDs["openai"]), 0)])
            let streamed = try await S.stream(harness, "/v1/messages", key: harness.multi.proxyKey,
                                              body: S.messagesBody(model: "house", stream: true))
            #expect(streamed.status == 200)
            let names = streamed.events.compactMap { $0.split(separator: "\n").first.map(String.init) }
            #expect(names.first == "event: message_start")
            #expect(names.last == "event: message_stop")
            #expect(names.contains("event: content_block_delta"))
            let text = streamed.dataObjects.compactMap { ($0["delta"] as? [String: Any])?["text"] as? String }.joined()
            #expect(text == "Hello there!")
            let received = try #require(harness.fake.received.first)
            #expect(received.json["model"] as? String == "gpt-4o-mini")
            #expect(received.json["stream"] as? Bool == true)
            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "openai")
            #expect(event.deployment == "openai:gpt-4o-mini@default")
            #expect(event.streamed)
        }
    }

    @Test("→ Gemini (chained translation): generateContent upstream, an Anthropic message back, priced event")
    func toGemini() async throws {
        try await GatewayHarness.with { harness in
            harness.gemini.setModelVersion("gemini-2.5-flash")
            let reply = try await harness.send(harness.request(.POST, "/v1/messages", headers: [("x-api-key", harness.multi.proxyKey)],
                                                               body: S.messagesBody(model: "gemini-2.5-flash")))
            #expect(reply.status == 200)
            #expect(reply.json["type"] as? String == "message")
            let content = try #require(reply.json["content"] as? [[String: Any]])
            #expect(content.first?["text"] as? String == "Hello there!")
            let received = try #require(harness.gemini.received.first)
            #expect(received.path == "/v1beta/models/gemini-2.5-flash:generateContent")
            #expect(received.apiKey == harness.multi.geminiSecret)
            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "gemini")
            #expect(S.dec(try #require(event.costUSD)) == S.geminiFlashCost)
        }
    }

    static func anthropicError(_ reply: GatewayHarness.Reply) -> (type: String?, errorType: String?, message: String?) {
        let error = reply.json["error"] as? [String: Any]
        return (reply.json["type"] as? String, error?["type"] as? String, error?["message"] as? String)
    }

    @Test("the proxy's own errors come in Anthropic's shape: 401, 400, 404, budget 429")
    func proxyErrorsInAnthropicShape() async throws {
        try await GatewayHarness.with { harness in
            let body = S.messagesBody(model: "claude-sonnet-4-5")
            // No key.
            let missing = try await harness.send(harness.request(.POST, "/v1/messages", body: body))
            #expect(missing.status == 401)
            #expect(Self.anthropicError(missing).type == "error")
            #expect(Self.anthropicError(missing).errorType == "authentication_error")
            #expect(Self.anthropicError(missing).message?.isEmpty == false)
            // Bad body: no messages.
            let bad = try await harness.send(harness.request(.POST, "/v1/messages", headers: [("x-api-key", harness.multi.proxyKey)],
                                                             body: #"{"model":"claude-sonnet-4-5","max_tokens":10}"#))
            #expect(bad.status == 400)
            #expect(Self.anthropicError(bad).type == "error")
            #expect(Self.anthropicError(bad).errorType == "invalid_request_error")
            #expect(Self.anthropicError(bad).message?.contains("messages") == true)
            // Unknown model: a project without provider keys.
            let unknown = try await harness.send(harness.request(.POST, "/v1/messages", headers: [("x-api-key", harness.keylessProjectKey)],
                                                                 body: body))
            #expect(unknown.status == 404)
            #expect(Self.anthropicError(unknown).type == "error")
            #expect(Self.anthropicError(unknown).errorType == "not_found_error")
            // Budget.
            let projectID = harness.multi.projectID
            try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
                _ = try await ProjectRepository(connection, logger: GatewayHarness.logger).update(
                    id: projectID, name: nil, budget: .some(try USDAmount.parse("0.000001", field: "budget")), allowedProviders: nil)
            }
            harness.configurationChanged()
            let budget = try await harness.send(harness.request(.POST, "/v1/messages", headers: [("x-api-key", harness.multi.proxyKey)],
                                                                body: body))
            #expect(budget.status == 429)
            #expect(Self.anthropicError(budget).type == "error")
            #expect(Self.anthropicError(budget).errorType == "rate_limit_error")
            #expect(Self.anthropicError(budget).message?.contains("budget") == true)
            #expect(harness.anthropic.received.isEmpty)
        }
    }

    @Test("an upstream error from Anthropic passes through in Anthropic's own shape")
    func upstreamErrorPassesThrough() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.send(harness.request(.POST, "/v1/messages", headers: [("x-api-key", harness.multi.proxyKey)],
                                                               body: S.messagesBody(model: "anthropic/bad-request")))
            #expect(reply.status == 400)
            #expect(Self.anthropicError(reply).type == "error")
            #expect(Self.anthropicError(reply).errorType == "invalid_request_error")
            #expect(harness.anthropic.received.count == 1)
        }
    }
}
