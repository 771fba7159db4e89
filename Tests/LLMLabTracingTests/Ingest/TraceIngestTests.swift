import Foundation
import LLMLabCore
import LLMLabStore
@testable import LLMLabTracing
import Logging
import Testing

/// ``TraceIngest`` against a real PostgreSQL: OTLP/HTTP bodies in, priced spans and trace
/// summaries out; content only with capture on; bad bodies and full writers answered the
/// way exporters expect.
@Suite("Trace ingest")
struct TraceIngestTests {
    /// A GenAI trace as OTLP/JSON: agent root, an LLM call with usage and a prompt, a failing tool.
    static func body(trace: String = "5b8efff798038103d269b633813fc60c") -> [UInt8] {
        Array("""
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"travel-agent"}}]},
        "scopeSpans":[{"scope":{"name":"app"},"spans":[
        {"traceId":"\(trace)","spanId":"eee19b7ec3c1b174","name":"invoke_agent planner","kind":1,
         "startTimeUnixNano":"1768046400000000000","endTimeUnixNano":"1768046405000000000",
         "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}}],"status":{"code":2,"message":"tool failed"}},
        {"traceId":"\(trace)","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"chat gpt-4o-mini","kind":3,
         "startTimeUnixNano":"1768046400100000000","endTimeUnixNano":"1768046401000000000",
         "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
                       {"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
                       {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
                       {"key":"gen_ai.usage.input_tokens","value":{"intValue":"1000"}},
                       {"key":"gen_ai.usage.output_tokens","value":{"intValue":"200"}},
                       {"key":"gen_ai.input.messages","value":{"stringValue":"[{\\"role\\":\\"user\\",\\"content\\":\\"secret plan\\"}]"}}]},
        {"traceId":"\(trace)","spanId":"eee19b7ec3c1b176","parentSpanId":"eee19b7ec3c1b174","name":"execute_tool search_flights","kind":1,
         "startTimeUnixNano":"1768046401100000000","endTimeUnixNano":"1768046404000000000",
         "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},{"key":"gen_ai.tool.name","value":{"stringValue":"search_flights"}}],
         "status":{"code":2,"message":"TimeoutError: upstream took longer than 30 s"}},
        {"traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b177","name":"bad id","kind":1,
         "startTimeUnixNano":"1768046401100000000","endTimeUnixNano":"1768046404000000000"}
        ]}]}]}
        """.utf8)
    }

    static func ingest(_ fixture: TraceStoreFixture, sink: (any SpanSink)? = nil) -> TraceIngest {
        TraceIngest(database: fixture.database, sink: sink ?? DirectSink(database: fixture.database),
                    overrides: PriceOverrideCache(database: fixture.database, logger: TraceStoreFixture.logger),
                    logger: TraceStoreFixture.logger, maxBodyBytes: 64 * 1024)
    }

    @Test("an OTLP/JSON export is stored priced, the invalid span is reported in partial_success, content is dropped by default")
    func storesJSON() async throws {
        try await TraceStoreFixture.with("ingest-json") { fixture in
            let reply = await Self.ingest(fixture).exportHTTP(Self.body(), contentType: "application/json", contentEncoding: nil,
                                                              tenantID: fixture.tenantID, projectID: fixture.projectID)
            #expect(reply.status == 200)
            #expect(reply.contentType == "application/json")
            let response = String(decoding: reply.body, as: UTF8.self)
            #expect(response.contains(#""rejectedSpans":"1""#))
            #expect(response.contains("trace_id"))
            let summary = try #require(try await fixture.inTenant { try await $0.summary(traceID: "5b8efff798038103d269b633813fc60c") })
            #expect(summary.spanCount == 3)
            #expect(summary.errorCount == 2)
            // catalog openai/gpt-4o-mini: 1000 × $0.15/M + 200 × $0.60/M = $0.00027
            #expect(Decimal(string: summary.costUSD) == Decimal(string: "0.00027"))
            let spans = try await fixture.inTenant { try await $0.spans(traceID: "5b8efff798038103d269b633813fc60c") }
            let llm = try #require(spans.first { $0.category == .llm })
            #expect(llm.tokens.uncachedInput == 1000 && llm.tokens.output == 200)
            #expect(llm.contentJSON.isEmpty)
            #expect(!llm.attributesJSON.contains("secret plan"))
            #expect(spans.first { $0.category == .tool }?.errorFlags.contains(.toolError) == true)
        }
    }

    @Test("with content capture on, the prompt is kept")
    func capturesContent() async throws {
        try await TraceStoreFixture.with("ingest-content") { fixture in
            let projectID = fixture.projectID
            _ = try await fixture.database.withTenantTransaction(fixture.scope) { connection in
                try await ProjectRepository(connection, logger: TraceStoreFixture.logger).update(
                    id: projectID, name: nil, budget: nil, allowedProviders: nil, captureContent: true)
            }
            let reply = await Self.ingest(fixture).exportHTTP(Self.body(), contentType: "application/json", contentEncoding: nil,
                                                              tenantID: fixture.tenantID, projectID: fixture.projectID)
            #expect(reply.status == 200)
            let spans = try await fixture.inTenant { try await $0.spans(traceID: "5b8efff798038103d269b633813fc60c") }
            #expect(spans.first { $0.category == .llm }?.contentJSON.contains("secret plan") == true)
        }
    }

    @Test("bad bodies: 415 for another content type, 400 for broken JSON, 413 above the limit; each a google.rpc.Status")
    func refusals() async throws {
        try await TraceStoreFixture.with("ingest-refusals") { fixture in
            let ingest = Self.ingest(fixture)
            let text = await ingest.exportHTTP(Self.body(), contentType: "text/plain", contentEncoding: nil,
                                               tenantID: fixture.tenantID, projectID: fixture.projectID)
            #expect(text.status == 415)
            let broken = await ingest.exportHTTP(Array("{\"resourceSpans\":[".utf8), contentType: "application/json", contentEncoding: nil,
                                                 tenantID: fixture.tenantID, projectID: fixture.projectID)
            #expect(broken.status == 400)
            #expect(String(decoding: broken.body, as: UTF8.self).hasPrefix(#"{"code":3,"message":"#))
            let huge = await ingest.exportHTTP([UInt8](repeating: 0x20, count: 65 * 1024), contentType: "application/x-protobuf",
                                               contentEncoding: nil, tenantID: fixture.tenantID, projectID: fixture.projectID)
            #expect(huge.status == 413)
            #expect(huge.contentType == "application/x-protobuf")
            let stored = try await fixture.inTenant { try await $0.listTraces(filter: TraceFilter(), limit: 10).traces }
            #expect(stored.isEmpty)
        }
    }

    @Test("a full writer answers 429 with Retry-After; a project that no longer exists is 400")
    func overloadedAndMissingProject() async throws {
        try await TraceStoreFixture.with("ingest-overloaded") { fixture in
            let full = await Self.ingest(fixture, sink: FullSink()).exportHTTP(
                Self.body(), contentType: "application/json", contentEncoding: nil, tenantID: fixture.tenantID, projectID: fixture.projectID)
            #expect(full.status == 429)
            #expect(full.retryAfterSeconds == 1)
            let missing = await Self.ingest(fixture).exportHTTP(
                Self.body(), contentType: "application/json", contentEncoding: nil, tenantID: fixture.tenantID, projectID: UUID())
            #expect(missing.status == 400)
        }
    }
}

/// Writes straight to the tenant's tables (the writer's batching is tested on its own).
struct DirectSink: SpanSink {
    let database: Database

    func accept(_ spans: [NormalizedSpan], tenant: TenantIngest) async throws {
        _ = try await database.withTenantTransaction(TenantScope(tenantID: tenant.tenantID)) { connection in
            try await SpanRepository(connection, logger: TraceStoreFixture.logger).insert(spans)
        }
    }
}

struct FullSink: SpanSink {
    func accept(_ spans: [NormalizedSpan], tenant: TenantIngest) async throws {
        throw IngestError(.overloaded, "the span queue is full", retryAfterSeconds: 1)
    }
}
