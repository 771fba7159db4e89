import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import LLMLabTracing
import SwiftProtobuf
import Testing

/// Spans seeded straight through the store's repository, as ingest would write them.
enum TraceSeed {
    static let base: UInt64 = 1_790_000_000

    /// A span `start`…`end` milliseconds after `minute` minutes past `base`.
    static func span(_ trace: String, _ id: String, parent: String = "", _ name: String, _ category: SpanCategory, project: UUID,
                     minute: UInt64, _ start: UInt64, _ end: UInt64, error: String? = nil, flags: SpanErrorFlags = [],
                     provider: String = "", model: String = "", cost: String? = nil, finish: String = "", tool: String = "",
                     user: String = "", session: String = "") -> NormalizedSpan {
        let t0 = (base + minute * 60) * 1_000_000_000
        return NormalizedSpan(
            traceID: trace, spanID: id, parentSpanID: parent, projectID: project, name: name, category: category,
            startTimeUnixNano: t0 + start * 1_000_000, endTimeUnixNano: t0 + end * 1_000_000,
            isError: error != nil || !flags.subtracting(.tokenLimit).isEmpty, errorFlags: flags, errorMessage: error ?? "",
            provider: provider, requestModel: model, responseModel: model,
            tokens: category == .llm ? TokenUsage(uncachedInput: 100, output: 20) : .zero, costUSD: cost,
            unpricedReason: category == .llm && cost == nil ? "unknown_model: not in the catalog" : "",
            finishReason: finish, userID: user, sessionID: session, serviceName: "travel-app", toolName: tool)
    }

    static let failing = String(repeating: "1", count: 32)
    static let healthy = String(repeating: "2", count: 32)
    static let fallback = String(repeating: "3", count: 32)

    /// Three traces: a failing tool with a retry (project one, minute 0), a healthy RAG run
    /// (project one, minute 1), an LLM fallback (project two, minute 2).
    static func spans(project1: UUID, project2: UUID) -> [NormalizedSpan] {
        [
            span(failing, "s1", "travel-planner", .agent, project: project1, minute: 0, 0, 64_000, error: "search_flights failed twice",
                 user: "u-1", session: "sess-1"),
            span(failing, "s2", parent: "s1", "chat gpt-4o", .llm, project: project1, minute: 0, 100, 3_100, provider: "openai",
                 model: "gpt-4o", cost: "0.0021", finish: "tool_calls"),
            span(failing, "s3", parent: "s1", "execute_tool search_flights", .tool, project: project1, minute: 0, 3_200, 33_200,
                 error: "TimeoutError: upstream took longer than 30 s", flags: [.toolError, .timeout], tool: "search_flights"),
            span(failing, "s4", parent: "s1", "execute_tool search_flights", .tool, project: project1, minute: 0, 33_300, 63_300,
                 error: "TimeoutError: upstream took longer than 30 s", flags: [.toolError, .timeout], tool: "search_flights"),

            span(healthy, "q", "answer-question", .chain, project: project1, minute: 1, 0, 1_800, user: "u-2", session: "sess-2"),
            span(healthy, "ret", parent: "q", "retrieve docs", .retriever, project: project1, minute: 1, 5, 205),
            span(healthy, "gen", parent: "q", "chat gpt-4o-mini", .llm, project: project1, minute: 1, 210, 1_790, provider: "openai",
                 model: "gpt-4o-mini", cost: "0.5", finish: "stop"),

            span(fallback, "r", "support-bot", .agent, project: project2, minute: 2, 0, 2_500, user: "u-3"),
            span(fallback, "l1", parent: "r", "chat gpt-4o", .llm, project: project2, minute: 2, 0, 400,
                 error: "429 Too Many Requests", flags: [.apiError], provider: "openai", model: "gpt-4o"),
            span(fallback, "l2", parent: "r", "chat claude-sonnet-4", .llm, project: project2, minute: 2, 450, 2_400,
                 provider: "anthropic", model: "claude-sonnet-4", cost: "0.0105", finish: "stop"),
        ]
    }

    static func insert(_ spans: [NormalizedSpan], tenant: String, into cp: TestControlPlane) async throws {
        let tenantID = try #require(UUID(uuidString: tenant))
        try await cp.database.database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
            _ = try await SpanRepository(connection, logger: TestControlPlane.logger).insert(spans)
        }
    }
}

/// `llmlab.v1.TraceQueryService` over real TLS: every filter, paging, the span tree,
/// the root-cause explanation, project scoping, tenant isolation and RBAC.
@Suite("Trace queries")
struct TraceQueryTests {
    @Test("list: newest first, paginated, every filter; bad filters name their field")
    func listTraces() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("traces-a")
            let p1 = try await cp.projects.createProject(.with { $0.name = "one" }, metadata: a.ownerAuth)
            let p2 = try await cp.projects.createProject(.with { $0.name = "two" }, metadata: a.ownerAuth)
            try await TraceSeed.insert(
                TraceSeed.spans(project1: try #require(UUID(uuidString: p1.id)), project2: try #require(UUID(uuidString: p2.id))),
                tenant: a.id, into: cp)

            // A viewer may read; pages of 2 then 1.
            let (_, viewerToken) = try await cp.signedInUser(a, role: .viewer)
            let viewer = TestControlPlane.auth(viewerToken)
            let first = try await cp.traces.listTraces(.with { $0.pageSize = 2 }, metadata: viewer)
            #expect(first.traces.map(\.traceID) == [TraceSeed.fallback, TraceSeed.healthy])
            #expect(!first.nextPageToken.isEmpty)
            let second = try await cp.traces.listTraces(.with { $0.pageSize = 2; $0.pageToken = first.nextPageToken }, metadata: viewer)
            #expect(second.traces.map(\.traceID) == [TraceSeed.failing])
            #expect(second.nextPageToken.isEmpty)

            let failing = second.traces[0]
            #expect(failing.rootName == "travel-planner")
            #expect(failing.projectID == p1.id)
            #expect(failing.spanCount == 4 && failing.errorCount == 3 && failing.llmCallCount == 1)
            #expect(failing.durationUs == 64_000_000)
            #expect(failing.totalCostUsd == "0.0021")
            #expect(failing.status == .error)
            #expect(failing.userID == "u-1" && failing.sessionID == "sess-1")
            #expect(failing.models == ["gpt-4o"])
            #expect(failing.tokens.uncachedInputTokens == 100 && failing.tokens.outputTokens == 20)
            #expect(first.traces[1].status == .ok)

            func ids(_ request: Llmlab_V1_ListTracesRequest) async throws -> [String] {
                try await cp.traces.listTraces(request, metadata: a.ownerAuth).traces.map(\.traceID)
            }
            #expect(try await ids(.with { $0.projectID = p2.id }) == [TraceSeed.fallback])
            #expect(try await ids(.with { $0.status = .error }) == [TraceSeed.fallback, TraceSeed.failing])
            #expect(try await ids(.with { $0.status = .ok }) == [TraceSeed.healthy])
            #expect(try await ids(.with { $0.model = "gpt-4o-mini" }) == [TraceSeed.healthy])
            #expect(try await ids(.with { $0.model = "gpt-4o" }) == [TraceSeed.fallback, TraceSeed.failing])
            #expect(try await ids(.with { $0.userID = "u-2" }) == [TraceSeed.healthy])
            #expect(try await ids(.with { $0.sessionID = "sess-1" }) == [TraceSeed.failing])
            #expect(try await ids(.with { $0.minCostUsd = "0.1" }) == [TraceSeed.healthy])
            #expect(try await ids(.with { $0.minDurationMs = 10_000 }) == [TraceSeed.failing])
            #expect(try await ids(.with { $0.nameContains = "PLANNER" }) == [TraceSeed.failing])
            let base = Date(timeIntervalSince1970: TimeInterval(TraceSeed.base))
            #expect(try await ids(.with {
                $0.since = Google_Protobuf_Timestamp(date: base.addingTimeInterval(30))
                $0.until = Google_Protobuf_Timestamp(date: base.addingTimeInterval(150))
            }) == [TraceSeed.fallback, TraceSeed.healthy])

            for (field, request) in [
                ("min_cost_usd", Llmlab_V1_ListTracesRequest.with { $0.minCostUsd = "cheap" }),
                ("min_duration_ms", .with { $0.minDurationMs = -1 }),
                ("status", .with { $0.status = .UNRECOGNIZED(9) }),
                ("page_token", .with { $0.pageToken = "garbage" }),
                ("until", .with {
                    $0.since = Google_Protobuf_Timestamp(date: base)
                    $0.until = Google_Protobuf_Timestamp(date: base)
                }),
                ("project_id", .with { $0.projectID = "nope" }),
            ] {
                let error = await rpcError { _ = try await cp.traces.listTraces(request, metadata: a.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(field)")
                #expect(error?.message.contains(field) == true, "\(field): \(error?.message ?? "")")
            }

            // A key scoped to project two sees only project two.
            let key = try await cp.auth.createApiKey(.with { $0.name = "p2"; $0.role = .viewer; $0.projectID = p2.id }, metadata: a.ownerAuth)
            let scoped = TestControlPlane.auth(key.secret)
            #expect(try await cp.traces.listTraces(.init(), metadata: scoped).traces.map(\.traceID) == [TraceSeed.fallback])
            #expect(await rpcCode { _ = try await cp.traces.listTraces(.with { $0.projectID = p1.id }, metadata: scoped) } == .notFound)
            #expect(await rpcCode { _ = try await cp.traces.getTrace(.with { $0.traceID = TraceSeed.failing }, metadata: scoped) } == .notFound)
            #expect(await rpcCode { _ = try await cp.traces.explainTrace(.with { $0.traceID = TraceSeed.failing }, metadata: scoped) } == .notFound)
            _ = try await cp.traces.getTrace(.with { $0.traceID = TraceSeed.fallback }, metadata: scoped)

            // A proxy-only key may not read traces.
            let proxy = try await cp.auth.createApiKey(.with { $0.name = "proxy"; $0.role = .owner; $0.scopes = ["proxy"] }, metadata: a.ownerAuth)
            #expect(await rpcCode { _ = try await cp.traces.listTraces(.init(), metadata: TestControlPlane.auth(proxy.secret)) } == .permissionDenied)
        }
    }

    @Test("get: the span tree in tree order with depths and offsets; explain: the failing tool")
    func getAndExplain() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("trace-get-a")
            let b = try await cp.makeTenant("trace-get-b")
            let p1 = try await cp.projects.createProject(.with { $0.name = "one" }, metadata: a.ownerAuth)
            let project = try #require(UUID(uuidString: p1.id))
            // Inserted children first: the tree does not depend on arrival order.
            try await TraceSeed.insert(TraceSeed.spans(project1: project, project2: project).reversed(), tenant: a.id, into: cp)

            let trace = try await cp.traces.getTrace(.with { $0.traceID = TraceSeed.failing.uppercased() }, metadata: a.ownerAuth)
            #expect(trace.summary.traceID == TraceSeed.failing)
            #expect(trace.spans.map(\.spanID) == ["s1", "s2", "s3", "s4"])
            #expect(trace.spans.map(\.depth) == [0, 1, 1, 1])
            #expect(trace.spans.map(\.offsetUs) == [0, 100_000, 3_200_000, 33_300_000])
            #expect(trace.spans.map(\.durationUs) == [64_000_000, 3_000_000, 30_000_000, 30_000_000])
            #expect(trace.spans.map(\.category) == [.agent, .llm, .tool, .tool])
            #expect(trace.spans[2].errorFlags == ["tool_error", "timeout"])
            #expect(trace.spans[2].toolName == "search_flights")
            #expect(trace.spans[1].costUsd == "0.0021" && trace.spans[1].responseModel == "gpt-4o")
            #expect(trace.spans[0].costUsd == "")

            let explained = try await cp.traces.explainTrace(.with { $0.traceID = TraceSeed.failing }, metadata: a.ownerAuth)
            #expect(explained.failed && explained.hasError_p)
            #expect(explained.rootCause.spanID == "s3" && explained.rootCause.toolName == "search_flights")
            #expect(explained.errorMessage == "TimeoutError: upstream took longer than 30 s")
            #expect(explained.ancestors.map(\.spanID) == ["s1"])
            #expect(explained.ledByLlmCall.spanID == "s2")
            #expect(explained.retries.map(\.spanID) == ["s4"])
            #expect(explained.summary.hasPrefix("The trace failed in tool `search_flights` (3.2 s into the run)"))
            #expect(!explained.evidence.isEmpty)

            let fallback = try await cp.traces.explainTrace(.with { $0.traceID = TraceSeed.fallback }, metadata: a.ownerAuth)
            #expect(!fallback.failed && fallback.fallbacks.map(\.model) == ["claude-sonnet-4"])
            let healthy = try await cp.traces.explainTrace(.with { $0.traceID = TraceSeed.healthy }, metadata: a.ownerAuth)
            #expect(!healthy.hasError_p && !healthy.hasRootCause)
            #expect(healthy.summary.hasPrefix("The trace completed without errors"))

            // Another tenant's trace id, an unknown one and a malformed one.
            #expect(await rpcCode { _ = try await cp.traces.getTrace(.with { $0.traceID = TraceSeed.failing }, metadata: b.ownerAuth) } == .notFound)
            #expect(await rpcCode { _ = try await cp.traces.explainTrace(.with { $0.traceID = TraceSeed.failing }, metadata: b.ownerAuth) } == .notFound)
            #expect(await rpcCode { _ = try await cp.traces.getTrace(.with { $0.traceID = String(repeating: "9", count: 32) }, metadata: a.ownerAuth) } == .notFound)
            let bad = await rpcError { _ = try await cp.traces.getTrace(.with { $0.traceID = "not a trace" }, metadata: a.ownerAuth) }
            #expect(bad?.code == .invalidArgument && bad?.message.contains("trace_id") == true)
            #expect(try await cp.traces.listTraces(.init(), metadata: b.ownerAuth).traces.isEmpty)
        }
    }
}
