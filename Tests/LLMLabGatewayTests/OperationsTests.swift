import Foundation
import LLMLabTestSupport
import NIOHTTP1
@testable import LLMLabGateway
import Testing

/// `/healthz`, `/metrics`, `/v1/models` and unknown routes.
@Suite("Proxy operations")
struct OperationsTests {
    @Test("/healthz is 200 while the database answers, 503 while it refuses connections, 200 again after")
    func health() async throws {
        try await GatewayHarness.with { harness in
            let healthy = try await harness.get("/healthz")
            #expect(healthy.status == 200)
            #expect(healthy.body == #"{"status":"ok"}"#)

            // Cut the proxy off: no new connections to its database, existing ones ended.
            try await harness.setDatabaseReachable(false)
            let start = ContinuousClock.now
            let sick = try await harness.get("/healthz")
            #expect(sick.status == 503)
            #expect(sick.json["status"] as? String == "unavailable")
            #expect(ContinuousClock.now - start < .seconds(5))

            try await harness.setDatabaseReachable(true)
            try await eventually { try await harness.get("/healthz").status == 200 }
        }
    }

    @Test("/metrics counts requests by route, provider, model and status, latencies and upstream errors")
    func metrics() async throws {
        try await GatewayHarness.with { harness in
            #expect(try await harness.chat(GatewayHarness.chatBody()).status == 200)
            #expect(try await harness.chat(GatewayHarness.chatBody(model: "rate-limited")).status == 429)
            #expect(try await harness.chat(GatewayHarness.chatBody(), key: "llk_nope").status == 401)

            let reply = try await harness.get("/metrics")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = reply.body
            #expect(text.contains("# TYPE llmlab_proxy_requests_total counter"))
            #expect(text.contains(#"llmlab_proxy_requests_total{route="/v1/chat/completions",provider="openai",model="gpt-4o-mini",status="200"} 1"#))
            #expect(text.contains(#"llmlab_proxy_requests_total{route="/v1/chat/completions",provider="openai",model="rate-limited",status="429"} 1"#))
            #expect(text.contains(#"llmlab_proxy_requests_total{route="/v1/chat/completions",provider="",model="",status="401"} 1"#))
            #expect(text.contains("# TYPE llmlab_proxy_request_duration_seconds histogram"))
            #expect(text.contains(#"llmlab_proxy_request_duration_seconds_count{route="/v1/chat/completions",provider="openai"} 2"#))
            #expect(text.contains(#"llmlab_proxy_request_duration_seconds_bucket{route="/v1/chat/completions",provider="openai",le="+Inf"} 2"#))
            #expect(text.contains(#"llmlab_proxy_upstream_errors_total{provider="openai",class="rate_limited"} 1"#))
        }
    }

    @Test("/v1/models lists the OpenAI models of a project with an OpenAI key, in OpenAI's list shape")
    func models() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.get("/v1/models", key: harness.proxyKey)
            #expect(reply.status == 200)
            #expect(reply.json["object"] as? String == "list")
            let data = try #require(reply.json["data"] as? [[String: Any]])
            #expect(data.contains { $0["id"] as? String == "gpt-4o-mini" })
            for model in data {
                #expect(model["object"] as? String == "model")
                #expect(model["owned_by"] as? String == "openai")
                #expect((model["created"] as? Int ?? 0) > 1_700_000_000)
            }

            let one = try await harness.get("/v1/models/gpt-4o", key: harness.proxyKey)
            #expect(one.status == 200)
            #expect(one.json["id"] as? String == "gpt-4o")
            #expect(try await harness.get("/v1/models/no-such-model", key: harness.proxyKey).status == 404)

            let empty = try await harness.get("/v1/models", key: harness.keylessProjectKey)
            #expect(empty.status == 200)
            #expect((empty.json["data"] as? [Any])?.isEmpty == true)

            #expect(try await harness.get("/v1/models").status == 401)
        }
    }

    @Test("unknown routes get an OpenAI-style 404")
    func unknownRoute() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.get("/v2/nothing")
            #expect(reply.status == 404)
            #expect(reply.error["type"] as? String == "not_found_error")
            #expect(reply.headers.first(name: "x-llmlab-request-id") != nil)
        }
    }
}
