import AsyncHTTPClient
import Foundation
import LLMLabTestSupport
import NIOHTTP1
@testable import LLMLabGateway
import NIOCore
import Synchronization
import Testing

/// `POST /v1/chat/completions` end to end: client → proxy (real socket, real database) →
/// fake OpenAI (real socket) and back.
@Suite("Chat completions")
struct ChatCompletionsTests {
    @Test("non-streaming: the body goes upstream byte for byte with the decrypted provider key; the answer comes back as is")
    func nonStreaming() async throws {
        try await GatewayHarness.with { harness in
            let body = GatewayHarness.chatBody()
            let reply = try await harness.chat(body)
            #expect(reply.status == 200)
            #expect(reply.json["id"] as? String == FakeOpenAI.completionID)
            #expect(reply.body.contains(#""cached_tokens":4"#))
            #expect(reply.headers.first(name: "x-llmlab-request-id")?.hasPrefix("req_") == true)
            #expect(reply.headers.first(name: "x-request-id") == "req_upstream_1")
            #expect(reply.headers.first(name: "content-type") == "application/json")

            let received = try #require(harness.fake.received.first)
            #expect(received.path == "/v1/chat/completions")
            #expect(received.authorization == "Bearer \(harness.openAISecret)")
            // Forwarded untouched: key order, the float and the 64-bit seed survive.
            #expect(received.body == Array(body.utf8))
        }
    }

    @Test("streaming without include_usage: chunks arrive as sent, in order; the injected usage chunk is stripped")
    func streamingStripsInjectedUsage() async throws {
        try await GatewayHarness.with { harness in
            let response = try await harness.client.execute(
                harness.request(.POST, "/v1/chat/completions", headers: [("authorization", "Bearer \(harness.proxyKey)")],
                                body: GatewayHarness.chatBody(stream: true)),
                timeout: .seconds(30))
            #expect(response.status.code == 200)
            #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            #expect(response.headers.first(name: "x-llmlab-request-id")?.hasPrefix("req_") == true)
            var text = ""
            var firstPieceAt: ContinuousClock.Instant?
            for try await piece in response.body {
                if firstPieceAt == nil { firstPieceAt = .now }
                text += String(buffer: piece)
            }
            // Not buffered: the first chunk reached the client before the fake sent its last.
            let lastSent = try #require(harness.fake.lastChunkSentAt)
            #expect(try #require(firstPieceAt) < lastSent)

            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let expected = FakeOpenAI.streamEvents(model: "gpt-4o-mini", includeUsage: true)
                .filter { !$0.contains(#""choices":[]"#) }
                .map { String($0.dropLast(2)) }
            #expect(events == expected)
            #expect(events.last == "data: [DONE]")
            #expect(!text.contains(#""choices":[]"#))

            // The proxy asked upstream for usage on the client's behalf.
            let sent = try #require(harness.fake.received.first).json
            #expect((sent["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        }
    }

    @Test("streaming with include_usage: the client gets the usage chunk it asked for")
    func streamingKeepsRequestedUsage() async throws {
        try await GatewayHarness.with { harness in
            let body = GatewayHarness.chatBody(stream: true, extra: #","stream_options":{"include_usage":true}"#)
            let reply = try await harness.chat(body)
            #expect(reply.status == 200)
            let events = reply.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events == FakeOpenAI.streamEvents(model: "gpt-4o-mini", includeUsage: true).map { String($0.dropLast(2)) })
            #expect(reply.body.contains(#""choices":[],"usage":{"prompt_tokens":12"#))
            // Nothing to inject: the body went up unchanged.
            #expect(try #require(harness.fake.received.first).body == Array(body.utf8))
        }
    }

    @Test("a stream the provider breaks off ends with an OpenAI-style error event, not a truncated body")
    func brokenStream() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "broken-stream", stream: true))
            #expect(reply.status == 200)
            let events = reply.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let sent = FakeOpenAI.streamEvents(model: "broken-stream", includeUsage: true)
            #expect(events.count == 3)
            #expect(Array(events.prefix(2)) == sent.prefix(2).map { String($0.dropLast(2)) })
            #expect(events.last?.hasPrefix(#"data: {"error":{"#) == true)
            #expect(events.last?.contains("upstream_stream_interrupted") == true)
            let metrics = try await harness.get("/metrics").body
            #expect(metrics.contains(#"llmlab_proxy_upstream_errors_total{provider="openai",class="connection"} 1"#))
        }
    }

    @Test("upstream 429 and 500 pass through with their status, body and retry-after")
    func upstreamErrorsPassThrough() async throws {
        try await GatewayHarness.with { harness in
            let limited = try await harness.chat(GatewayHarness.chatBody(model: "rate-limited"))
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "retry-after") == "7")
            #expect(limited.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            #expect(limited.error["code"] as? String == "rate_limit_exceeded")
            #expect(limited.headers.first(name: "x-llmlab-request-id") != nil)

            let failed = try await harness.chat(GatewayHarness.chatBody(model: "server-error"))
            #expect(failed.status == 500)
            #expect(failed.error["type"] as? String == "server_error")

            // A stream refused before it starts comes back as the provider's JSON error.
            let refusedStream = try await harness.chat(GatewayHarness.chatBody(model: "rate-limited", stream: true))
            #expect(refusedStream.status == 429)
            #expect(refusedStream.error["code"] as? String == "rate_limit_exceeded")
        }
    }

    @Test("malformed bodies get 400 naming the field, before any upstream call")
    func malformedBodies() async throws {
        try await GatewayHarness.with { harness in
            let cases: [(body: String, param: String?, code: String)] = [
                ("not json", nil, "invalid_json"),
                ("[1,2]", nil, "invalid_json"),
                (#"{"messages":[]}"#, "model", "missing_required_parameter"),
                (#"{"model":42,"messages":[]}"#, "model", "invalid_type"),
                (#"{"model":"gpt-4o-mini"}"#, "messages", "missing_required_parameter"),
                (#"{"model":"gpt-4o-mini","messages":"hi"}"#, "messages", "invalid_type"),
                (#"{"model":"gpt-4o-mini","messages":[],"stream":"yes"}"#, "stream", "invalid_type"),
                (#"{"model":"gpt-4o-mini","messages":[],"stream":true,"stream_options":{"include_usage":1}}"#,
                 "stream_options.include_usage", "invalid_type"),
            ]
            for (body, param, code) in cases {
                let reply = try await harness.chat(body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.error["type"] as? String == "invalid_request_error", "\(body)")
                #expect(reply.error["param"] as? String == param, "\(body)")
                #expect(reply.error["code"] as? String == code, "\(body)")
            }
            #expect(harness.fake.received.isEmpty)
        }
    }

    @Test("bodies over the limit get 413, declared or not")
    func oversizedBody() async throws {
        try await GatewayHarness.with(configure: { $0.maxRequestBodyBytes = 64 * 1024 }) { harness in
            let big = GatewayHarness.chatBody(extra: #","user":""# + String(repeating: "x", count: 70 * 1024) + #"""#)
            let declared = try await harness.chat(big)
            #expect(declared.status == 413)
            #expect(declared.error["code"] as? String == "request_too_large")

            // Chunked upload without content-length: refused while reading.
            var request = harness.request(.POST, "/v1/chat/completions", headers: [("authorization", "Bearer \(harness.proxyKey)")])
            let pieces = stride(from: 0, to: big.utf8.count, by: 8192).map { start in
                ByteBuffer(bytes: Array(big.utf8)[start..<min(start + 8192, big.utf8.count)])
            }
            let (upload, writer) = AsyncStream<ByteBuffer>.makeStream()
            for piece in pieces { writer.yield(piece) }
            writer.finish()
            request.body = .stream(upload, length: .unknown)
            let streamed = try await harness.send(request)
            #expect(streamed.status == 413)

            // The limit is inclusive of smaller bodies.
            #expect(try await harness.chat(GatewayHarness.chatBody()).status == 200)
            #expect(harness.fake.received.count == 1)
        }
    }

    @Test("a project without an OpenAI key gets 404 model_not_found with the fix")
    func projectWithoutProviderKey() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.chat(GatewayHarness.chatBody(), key: harness.keylessProjectKey)
            #expect(reply.status == 404)
            #expect(reply.error["code"] as? String == "model_not_found")
            #expect((reply.error["message"] as? String)?.contains("llmlab-admin key put") == true)
        }
    }

    @Test("a client that disconnects mid-stream cancels the upstream call, even while upstream is silent")
    func disconnectCancelsUpstream() async throws {
        try await GatewayHarness.with { harness in
            let firstChunk = Mutex(false)
            let task = Task {
                let response = try await harness.client.execute(
                    harness.request(.POST, "/v1/chat/completions", headers: [("authorization", "Bearer \(harness.proxyKey)")],
                                    body: GatewayHarness.chatBody(model: "slow-stream", stream: true)),
                    timeout: .seconds(60))
                for try await _ in response.body {
                    firstChunk.withLock { $0 = true }
                }
            }
            try await eventually { firstChunk.withLock { $0 } }
            task.cancel()  // AsyncHTTPClient closes the connection
            _ = await task.result
            try await eventually(timeout: .seconds(5)) { harness.fake.abandonedCalls == 1 }
        }
    }

    @Test("a client that disconnects while waiting for a non-streaming answer cancels the upstream call")
    func disconnectCancelsNonStreamingUpstream() async throws {
        try await GatewayHarness.with { harness in
            let task = Task {
                try await harness.send(harness.request(
                    .POST, "/v1/chat/completions", headers: [("authorization", "Bearer \(harness.proxyKey)")],
                    body: GatewayHarness.chatBody(model: "slow-completion")))
            }
            try await eventually { harness.fake.received.count == 1 }
            task.cancel()
            _ = await task.result
            try await eventually(timeout: .seconds(5)) { harness.fake.abandonedCalls == 1 }
            // The proxy still serves the next request on a fresh connection.
            #expect(try await harness.chat(GatewayHarness.chatBody()).status == 200)
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes (then fails the test).
func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool,
                sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
}
