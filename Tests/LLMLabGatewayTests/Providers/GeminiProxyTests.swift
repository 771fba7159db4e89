import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// OpenAI Chat Completions clients served by Gemini (the multi-provider project's Gemini
/// key): real sockets end to end, FakeGemini upstream.
@Suite("OpenAI chat → Gemini")
struct GeminiProxyTests {
    typealias S = ProviderTestSupport

    @Test("non-streaming: generateContent with x-goog-api-key (never in the URL); OpenAI shape back; cached and thinking tokens priced")
    func nonStreaming() async throws {
        try await GatewayHarness.with { harness in
            harness.gemini.setModelVersion("gemini-2.5-flash")
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "gemini-2.5-flash"), key: harness.multi.proxyKey)
            #expect(reply.status == 200)
            #expect(reply.json["object"] as? String == "chat.completion")
            let choice = try #require((reply.json["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Hello there!")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(S.dec(try #require(reply.headers.first(name: "x-llmlab-cost-usd"))) == S.geminiFlashCost)

            let received = try #require(harness.gemini.received.first)
            #expect(harness.gemini.received.count == 1)
            #expect(received.path == "/v1beta/models/gemini-2.5-flash:generateContent")
            #expect(received.apiKey == harness.multi.geminiSecret)
            #expect(!received.path.contains("key="))
            #expect(!received.path.contains(harness.multi.geminiSecret))
            let contents = try #require(received.json["contents"] as? [[String: Any]])
            #expect(contents.first?["role"] as? String == "user")
            #expect(received.json["systemInstruction"] != nil)
            #expect(harness.fake.received.isEmpty && harness.anthropic.received.isEmpty)

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "gemini")
            #expect(event.model == "gemini-2.5-flash")
            #expect(event.responseModel == "gemini-2.5-flash")
            #expect(event.inputTokens == 8)
            #expect(event.cachedInputTokens == 4)
            #expect(event.outputTokens == 5)
            #expect(event.reasoningTokens == 2)
            #expect(event.priced)
            #expect(S.dec(try #require(event.costUSD)) == S.geminiFlashCost)
        }
    }

    @Test("streaming: streamGenerateContent?alt=sse; OpenAI chunks incrementally, then [DONE]; one priced event")
    func streaming() async throws {
        try await GatewayHarness.with { harness in
            harness.gemini.setModelVersion("gemini-2.5-flash")
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "gemini-2.5-flash", stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            let lastSent = try #require(harness.gemini.lastChunkSentAt)
            #expect(try #require(streamed.firstPieceAt) < lastSent)
            #expect(streamed.events.last == "data: [DONE]")
            let chunks = streamed.dataObjects
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
            #expect(deltas.joined() == "Hello there!")
            #expect(!streamed.text.contains(#""choices":[]"#))

            let received = try #require(harness.gemini.received.first)
            #expect(received.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
            #expect(received.apiKey == harness.multi.geminiSecret)
            #expect(!received.path.contains("key="))

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "gemini")
            #expect(event.streamed)
            #expect(event.inputTokens == 8 && event.cachedInputTokens == 4)
            #expect(event.outputTokens == 5 && event.reasoningTokens == 2)
            #expect(S.dec(try #require(event.costUSD)) == S.geminiFlashCost)
        }
    }

    @Test("streaming with include_usage: the usage chunk carries Gemini's counts in OpenAI terms")
    func streamingUsageChunk() async throws {
        try await GatewayHarness.with { harness in
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "gemini-2.5-flash", stream: true,
                                                                            extra: #","stream_options":{"include_usage":true}"#))
            #expect(streamed.status == 200)
            let usage = try #require(streamed.dataObjects.last { $0["usage"] is [String: Any] }?["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 12)
            #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 4)
            #expect(streamed.events.last == "data: [DONE]")
        }
    }
}
