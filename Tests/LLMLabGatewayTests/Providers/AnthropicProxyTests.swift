import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// OpenAI Chat Completions clients served by Anthropic (the multi-provider project's
/// Anthropic key): real sockets end to end, FakeAnthropic upstream.
@Suite("OpenAI chat → Anthropic")
struct AnthropicProxyTests {
    typealias S = ProviderTestSupport

    @Test("non-streaming: Messages request with x-api-key and anthropic-version; OpenAI shape back; cache 5m/1h priced exactly")
    func nonStreaming() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "claude-sonnet-4-5"), key: harness.multi.proxyKey)
            #expect(reply.status == 200)
            #expect(reply.json["object"] as? String == "chat.completion")
            #expect(reply.json["model"] as? String == "claude-sonnet-4-5")
            let choice = try #require((reply.json["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == "Hello there!")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(reply.headers.first(name: "content-type") == "application/json")
            let header = try #require(reply.headers.first(name: "x-llmlab-cost-usd"))
            #expect(S.dec(header) == S.claudeSonnetCost)

            // What Anthropic received.
            #expect(harness.anthropic.received.count == 1)
            let received = try #require(harness.anthropic.received.first)
            #expect(received.path == "/v1/messages")
            #expect(received.apiKey == harness.multi.anthropicSecret)
            #expect(received.anthropicVersion == "2023-06-01")
            let sent = received.json
            #expect(sent["model"] as? String == "claude-sonnet-4-5")
            #expect(sent["max_tokens"] as? Int != nil)  // required by the Messages API
            #expect(sent["system"] != nil)
            let messages = try #require(sent["messages"] as? [[String: Any]])
            #expect(messages.count == 1)
            #expect(messages.first?["role"] as? String == "user")
            #expect(harness.fake.received.isEmpty && harness.gemini.received.isEmpty)

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "anthropic")
            #expect(event.projectID == harness.multi.projectID)
            #expect(event.model == "claude-sonnet-4-5")
            #expect(event.responseModel == "claude-sonnet-4-5")
            #expect(event.inputTokens == 12)
            #expect(event.cachedInputTokens == 4)
            #expect(event.cacheWrite5mTokens == 2)
            #expect(event.cacheWrite1hTokens == 4)
            #expect(event.outputTokens == 5)
            #expect(event.priced)
            #expect(S.dec(try #require(event.costUSD)) == S.claudeSonnetCost)
            #expect(event.status == 200)
            #expect(!event.streamed)
        }
    }

    @Test("streaming: OpenAI chunks arrive as Anthropic sends them (not buffered), end with [DONE]; one priced event")
    func streaming() async throws {
        try await GatewayHarness.with { harness in
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "claude-sonnet-4-5", stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            let lastSent = try #require(harness.anthropic.lastEventSentAt)
            #expect(try #require(streamed.firstPieceAt) < lastSent)
            #expect(streamed.events.last == "data: [DONE]")
            #expect(streamed.events.allSatisfy { $0.hasPrefix("data: ") })
            let chunks = streamed.dataObjects
            #expect(!chunks.isEmpty)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
            #expect(deltas.joined() == "Hello there!")
            #expect(deltas.count >= 2)
            let finishes = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finishes == ["stop"])
            // The client did not ask for the usage chunk.
            #expect(!streamed.text.contains(#""choices":[]"#))

            let received = try #require(harness.anthropic.received.first)
            #expect(received.json["stream"] as? Bool == true)
            #expect(received.apiKey == harness.multi.anthropicSecret)

            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "anthropic")
            #expect(event.streamed)
            #expect(event.inputTokens == 12 && event.cachedInputTokens == 4)
            #expect(event.cacheWrite5mTokens == 2 && event.cacheWrite1hTokens == 4)
            #expect(event.outputTokens == 5)
            #expect(S.dec(try #require(event.costUSD)) == S.claudeSonnetCost)
            #expect(event.ttftMs != nil)
        }
    }

    static let tools = #","tools":[{"type":"function","function":{"name":"get_weather","description":"Weather by city","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]"#

    @Test("tool call round trip: tools become Anthropic tools; tool_use comes back as tool_calls; the result goes back as tool_result")
    func toolCallRoundTrip() async throws {
        try await GatewayHarness.with { harness in
            let first = try await harness.chat(GatewayHarness.chatBody(model: "claude-sonnet-4-5", extra: Self.tools),
                                               key: harness.multi.proxyKey)
            #expect(first.status == 200)
            let choice = try #require((first.json["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let message = try #require(choice["message"] as? [String: Any])
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first)
            #expect(call["id"] as? String == FakeAnthropic.toolUseID)
            #expect(call["type"] as? String == "function")
            let function = try #require(call["function"] as? [String: Any])
            #expect(function["name"] as? String == "get_weather")
            let arguments = try #require(function["arguments"] as? String)
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: Any])
            #expect(parsed["location"] as? String == "San Francisco, CA")

            let sentTools = try #require(harness.anthropic.received.first?.json["tools"] as? [[String: Any]])
            #expect(sentTools.first?["name"] as? String == "get_weather")
            #expect(sentTools.first?["input_schema"] is [String: Any])

            // Second turn: the assistant's tool call and the tool's result.
            let second = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Weather in SF?"},{"role":"assistant","content":null,"tool_calls":[{"id":"\#(FakeAnthropic.toolUseID)","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\"}"}}]},{"role":"tool","tool_call_id":"\#(FakeAnthropic.toolUseID)","content":"18°C, fog"}]\#(Self.tools)}"#
            let reply = try await harness.chat(second, key: harness.multi.proxyKey)
            #expect(reply.status == 200)
            let sent = try #require(harness.anthropic.received.last).json
            let messages = try #require(sent["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String ?? "" } == ["user", "assistant", "user"])
            let toolUse = try #require((messages[1]["content"] as? [[String: Any]])?.first { $0["type"] as? String == "tool_use" })
            #expect(toolUse["id"] as? String == FakeAnthropic.toolUseID)
            #expect(toolUse["name"] as? String == "get_weather")
            #expect((toolUse["input"] as? [String: Any])?["location"] as? String == "San Francisco, CA")
            let toolResult = try #require((messages[2]["content"] as? [[String: Any]])?.first { $0["type"] as? String == "tool_result" })
            #expect(toolResult["tool_use_id"] as? String == FakeAnthropic.toolUseID)
            #expect("\(toolResult["content"] ?? "")".contains("18°C, fog"))
        }
    }

    @Test("streaming tool call: tool_calls deltas with the id and name, arguments assembled from input_json_delta")
    func streamingToolCall() async throws {
        try await GatewayHarness.with { harness in
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "claude-sonnet-4-5", stream: true, extra: Self.tools))
            #expect(streamed.status == 200)
            #expect(streamed.events.last == "data: [DONE]")
            var name: String?
            var id: String?
            var arguments = ""
            for chunk in streamed.dataObjects {
                guard let delta = (chunk["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any],
                      let calls = delta["tool_calls"] as? [[String: Any]] else { continue }
                for call in calls {
                    if let value = call["id"] as? String { id = value }
                    let function = call["function"] as? [String: Any]
                    if let value = function?["name"] as? String { name = value }
                    arguments += function?["arguments"] as? String ?? ""
                }
            }
            #expect(id == FakeAnthropic.toolUseID)
            #expect(name == "get_weather")
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: Any])
            #expect(parsed["location"] as? String == "San Francisco, CA")
            let finishes = streamed.dataObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finishes == ["tool_calls"])
        }
    }

    @Test("429 with retry-after: the client gets 429 in OpenAI's error shape, retry-after passed on, no retry (7 s > 1 s)")
    func rateLimited() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "anthropic/rate-limited"), key: harness.multi.proxyKey)
            #expect(reply.status == 429)
            #expect(reply.headers.first(name: "retry-after") == "7")
            #expect(reply.headers.first(name: "anthropic-ratelimit-requests-remaining") == "0")
            #expect(reply.json["type"] == nil)  // not Anthropic's shape
            #expect((reply.error["message"] as? String)?.contains("rate limit") == true)
            #expect(reply.error["type"] is String)
            #expect(harness.anthropic.received.count == 1)
            #expect(harness.anthropic.received.first?.json["model"] as? String == "rate-limited")
            let event = try #require(try await S.events(harness).first)
            #expect(event.provider == "anthropic")
            #expect(event.status == 429)
        }
    }

    @Test("529 overloaded: retried once on the same deployment, then the 529 reaches the client in OpenAI's shape")
    func overloaded() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "anthropic/overloaded"), key: harness.multi.proxyKey)
            #expect(reply.status == 529)
            #expect(reply.error["message"] as? String == "Overloaded")
            #expect(reply.error["type"] is String)
            #expect(harness.anthropic.received.count == 2)
            let event = try #require(try await S.events(harness).first)
            #expect(event.status == 529)
            #expect(event.provider == "anthropic")
        }
    }

    @Test("an error event mid-stream: the client's stream ends with an OpenAI-style error event, no [DONE]; the event says so")
    func midStreamError() async throws {
        try await GatewayHarness.with { harness in
            let streamed = try await S.stream(harness, "/v1/chat/completions", key: harness.multi.proxyKey,
                                              body: GatewayHarness.chatBody(model: "anthropic/mid-stream-error", stream: true))
            #expect(streamed.status == 200)
            #expect(!streamed.text.contains("[DONE]"))
            let last = try #require(streamed.dataObjects.last)
            let error = try #require(last["error"] as? [String: Any])
            #expect(error["message"] as? String == "Overloaded")
            // Text before the error reached the client.
            let deltas = streamed.dataObjects.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
            #expect(deltas.joined() == "Hel")
            #expect(harness.anthropic.received.count == 1)
            let event = try #require(try await S.events(harness).first)
            #expect(event.status >= 500)
            #expect(!event.errorClass.isEmpty)
        }
    }
}
