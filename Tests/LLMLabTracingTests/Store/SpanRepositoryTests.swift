import Foundation
import LLMLabCore
import LLMLabStore
import LLMLabTestSupport
import LLMLabTracing
import Logging
import PostgresNIO
import Testing

@Suite("Span store")
struct SpanRepositoryTests {
    typealias F = TraceStoreFixture

    @Test("re-inserting the same spans inserts nothing and leaves the summary alone")
    func idempotent() async throws {
        try await F.with("spans_idempotent") { fx in
            let spans = [
                F.span(trace: 1, 1, project: fx.projectID, name: "root", start: 0, end: 5),
                F.span(trace: 1, 2, parent: 1, project: fx.projectID, name: "llm", category: .llm, start: 1, end: 2,
                       model: "gpt-4o", cost: "0.25"),
                F.span(trace: 1, 3, parent: 1, project: fx.projectID, name: "tool", category: .tool, start: 2, end: 3),
            ]
            #expect(try await fx.insert(spans) == 3)
            #expect(try await fx.insert(spans) == 0)
            #expect(try await fx.insert(Array(spans.prefix(2))) == 0)
            let stored = try await fx.inTenant { try await $0.spans(traceID: F.traceID(1)) }
            #expect(stored.map(\.spanID) == spans.map(\.spanID))
            var expected = spans[1]
            expected.attributesJSON = #"{"k": "v"}"#  // jsonb's normal form
            #expect(stored[1] == expected)
            let summary = try #require(try await fx.inTenant { try await $0.summary(traceID: F.traceID(1)) })
            #expect(summary.spanCount == 3)
            #expect(summary.costUSD == "0.25")
        }
    }

    @Test("summary: root, counts, cost, tokens, duration, errors — also when the root arrives last")
    func summaryRootLast() async throws {
        try await F.with("spans_summary") { fx in
            let p = fx.projectID
            let root = F.span(trace: 7, 1, project: p, name: "agent run", category: .agent, start: 0, end: 10,
                              user: "u1", session: "s1")
            let children = [
                F.span(trace: 7, 2, parent: 1, project: p, name: "chat gpt-4o", category: .llm, start: 1, end: 3,
                       model: "gpt-4o", cost: "0.0015", tokens: TokenUsage(uncachedInput: 100, cacheRead: 20, output: 50, reasoning: 5)),
                F.span(trace: 7, 3, parent: 1, project: p, name: "chat claude", category: .llm, start: 4, end: 6,
                       isError: true, model: "claude", tokens: TokenUsage(uncachedInput: 10, cacheWrite5m: 7, output: 3)),
                F.span(trace: 7, 4, parent: 1, project: p, name: "search", category: .tool, start: 7, end: 12,
                       cost: "0.0005"),
            ]
            #expect(try await fx.insert(children) == 3)
            let partial = try #require(try await fx.inTenant { try await $0.summary(traceID: F.traceID(7)) })
            #expect(partial.rootSpanID == F.spanID(7, 2))
            #expect(partial.rootName == "chat gpt-4o")
            #expect(!partial.hasRoot)
            #expect(partial.spanCount == 3)
            #expect(partial.durationNanos == 11_000_000_000)
            #expect(partial.startMicros == Int64(F.nanos(1) / 1000))

            #expect(try await fx.insert([root]) == 1)
            let summary = try #require(try await fx.inTenant { try await $0.summary(traceID: F.traceID(7)) })
            #expect(summary.rootSpanID == F.spanID(7, 1))
            #expect(summary.rootName == "agent run")
            #expect(summary.hasRoot)
            #expect(summary.projectID == p)
            #expect(summary.spanCount == 4)
            #expect(summary.errorCount == 1)
            #expect(summary.isError)
            #expect(summary.llmCallCount == 2)
            #expect(Decimal(string: summary.costUSD) == Decimal(string: "0.002"))
            #expect(summary.costUnpricedSpans == 1)
            #expect(summary.tokens == TokenUsage(uncachedInput: 110, cacheRead: 20, cacheWrite5m: 7, output: 53, reasoning: 5))
            #expect(summary.durationNanos == 12_000_000_000)
            #expect(summary.startMicros == Int64(F.nanos(0) / 1000))
            #expect(abs(summary.startTime.timeIntervalSince1970 - Double(F.nanos(0)) / 1e9) < 1e-5)
            #expect(summary.userID == "u1")
            #expect(summary.sessionID == "s1")
            #expect(summary.serviceName == "agent-svc")
            #expect(summary.models == ["claude", "claude-2024", "gpt-4o", "gpt-4o-2024"])

            let spans = try await fx.inTenant { try await $0.spans(traceID: F.traceID(7)) }
            #expect(spans.map(\.spanID) == [1, 2, 3, 4].map { F.spanID(7, $0) })
            #expect(spans[0].startTimeUnixNano == F.nanos(0))
            #expect(spans[1].tokens.reasoning == 5)
            #expect(spans[2].errorFlags == [.apiError])
            #expect(spans[2].costUSD == nil)
            #expect(spans[1].costUSD == "0.0015")
        }
    }

    /// Five traces; see each expectation for the one filter it exercises.
    @Test("listTraces: every filter, and keyset pagination")
    func listTraces() async throws {
        try await F.with("spans_list") { fx in
            let a = fx.projectID
            let b = fx.otherProjectID
            _ = try await fx.insert([
                F.span(trace: 10, 1, project: a, name: "Checkout_Flow 100%", start: 0, end: 10, user: "alice", session: "s1"),
                F.span(trace: 10, 2, parent: 1, project: a, name: "llm", category: .llm, start: 1, end: 2, isError: true,
                       model: "gpt-4o", cost: "0.5"),
                F.span(trace: 11, 1, project: a, name: "search", start: 100, end: 101, user: "bob", session: "s2"),
                F.span(trace: 11, 2, parent: 1, project: a, name: "llm", category: .llm, start: 100, end: 100.5,
                       model: "claude", cost: "0.01"),
                F.span(trace: 12, 1, project: b, name: "checkout retry", start: 200, end: 202, model: "gpt-4o", cost: "0",
                       user: "alice", session: "s1"),
                F.span(trace: 13, 1, project: a, name: "summarize", start: 300, end: 330, user: "carol"),
                F.span(trace: 14, 1, project: a, name: "CheckoutXflow", start: 400, end: 401),
            ].shuffled())
            func ids(_ filter: TraceFilter) async throws -> [Int] {
                let page = try await fx.inTenant { try await $0.listTraces(filter: filter, limit: 100) }
                #expect(page.next == nil)
                return page.traces.map { Int($0.traceID, radix: 16)! }
            }
            func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: Double(F.nanos(seconds)) / 1e9) }

            #expect(try await ids(TraceFilter()) == [14, 13, 12, 11, 10])
            #expect(try await ids(TraceFilter(projectID: a)) == [14, 13, 11, 10])
            #expect(try await ids(TraceFilter(projectID: b)) == [12])
            #expect(try await ids(TraceFilter(status: .error)) == [10])
            #expect(try await ids(TraceFilter(status: .ok)) == [14, 13, 12, 11])
            #expect(try await ids(TraceFilter(model: "gpt-4o")) == [12, 10])
            #expect(try await ids(TraceFilter(model: "claude-2024")) == [11])
            #expect(try await ids(TraceFilter(userID: "alice")) == [12, 10])
            #expect(try await ids(TraceFilter(sessionID: "s2")) == [11])
            #expect(try await ids(TraceFilter(minCostUSD: "0.01")) == [11, 10])
            #expect(try await ids(TraceFilter(minCostUSD: "0.02")) == [10])
            #expect(try await ids(TraceFilter(minDurationNanos: 5_000_000_000)) == [13, 10])
            #expect(try await ids(TraceFilter(nameContains: "checkout")) == [14, 12, 10])
            #expect(try await ids(TraceFilter(nameContains: "CHECKOUT_flow")) == [10])  // `_` is literal
            #expect(try await ids(TraceFilter(nameContains: "0%")) == [10])
            #expect(try await ids(TraceFilter(nameContains: "%")) == [10])
            #expect(try await ids(TraceFilter(since: at(100), until: at(300))) == [12, 11])
            #expect(try await ids(TraceFilter(since: at(100), projectID: a, userID: "bob")) == [11])
            await #expect(throws: StoreError.self) {
                try await fx.inTenant { try await $0.listTraces(filter: TraceFilter(minCostUSD: "lots"), limit: 10) }
            }

            var seen: [Int] = []
            var cursor: TraceCursor?
            var pages = 0
            repeat {
                let after = cursor
                let page = try await fx.inTenant { try await $0.listTraces(filter: TraceFilter(), limit: 2, after: after) }
                seen += page.traces.map { Int($0.traceID, radix: 16)! }
                // The cursor survives the trip through its opaque token.
                cursor = try page.next.flatMap { try TraceCursor(token: $0.token) }
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == [14, 13, 12, 11, 10])
            #expect(pages == 3)
            #expect(throws: ValidationError.self) { _ = try TraceCursor(token: "not-a-cursor") }
        }
    }

    @Test("another tenant's transaction finds none of the spans")
    func tenantIsolation() async throws {
        try await F.with("spans_isolation") { fx in
            _ = try await fx.insert([F.span(trace: 3, 1, project: fx.projectID, name: "secret", start: 0, end: 1)])
            let otherTenant = try await F.createTenant(in: fx.database, slug: "globex")
            let other = TenantScope(tenantID: otherTenant)
            let (spans, summary, page) = try await fx.database.withTenantTransaction(other) { connection in
                let repository = SpanRepository(connection, logger: F.logger)
                return (try await repository.spans(traceID: F.traceID(3)), try await repository.summary(traceID: F.traceID(3)),
                        try await repository.listTraces(filter: TraceFilter(), limit: 10))
            }
            #expect(spans.isEmpty)
            #expect(summary == nil)
            #expect(page.traces.isEmpty)
            // Reaching into the first tenant's schema by name is refused, not answered.
            let schema = fx.scope.schemaName
            await #expect(throws: (any Error).self) {
                try await fx.database.withTenantTransaction(other) { connection in
                    _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \"\(schema)\".spans"),
                                                   logger: F.logger).collect()
                }
            }
            // The owner still sees it.
            #expect(try await fx.inTenant { try await $0.spans(traceID: F.traceID(3)) }.count == 1)
        }
    }

    @Test("retention deletes only what is older than its own project's retention")
    func retention() async throws {
        try await F.with("spans_retention") { fx in
            let settings = try await fx.database.withTenantTransaction(fx.scope) { connection in
                let repository = ProjectRepository(connection, logger: F.logger)
                let before = try await repository.find(id: fx.otherProjectID)
                let after = try await repository.update(id: fx.otherProjectID, name: nil, budget: nil, allowedProviders: nil,
                                                        traceRetentionDays: 7)
                return (before, after)
            }
            #expect(settings.0?.traceRetentionDays == 30)
            #expect(settings.0?.captureContent == false)
            #expect(settings.1?.traceRetentionDays == 7)
            await #expect(throws: StoreError.self) {
                try await fx.database.withTenantTransaction(fx.scope) { connection in
                    try await ProjectRepository(connection, logger: F.logger).update(id: fx.projectID, name: nil, budget: nil,
                                                                                     allowedProviders: nil, traceRetentionDays: 0)
                }
            }
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            func daysAgo(_ days: Double) -> UInt64 { UInt64((now.timeIntervalSince1970 - days * 86_400) * 1e9) }
            var spans: [NormalizedSpan] = []
            for (trace, project, age) in [(20, fx.projectID, 40.0), (21, fx.projectID, 10.0),
                                          (22, fx.otherProjectID, 10.0), (23, fx.otherProjectID, 3.0)] {
                spans.append(F.span(trace: trace, 1, project: project, start: 0, end: 1, base: daysAgo(age)))
                spans.append(F.span(trace: trace, 2, parent: 1, project: project, start: 0, end: 1, base: daysAgo(age)))
            }
            _ = try await fx.insert(spans)
            let job = RetentionJob(database: fx.database, configuration: { var c = RetentionJob.Configuration(); c.batchSize = 1; return c }(),
                                   logger: F.logger, now: { now })
            let report = await job.runOnce()
            #expect(report.traces == 2)
            #expect(report.spans == 4)
            #expect(report.failedTenants == 0)
            let left = try await fx.inTenant { try await $0.listTraces(filter: TraceFilter(), limit: 10) }
            #expect(Set(left.traces.map { Int($0.traceID, radix: 16)! }) == [21, 23])
            #expect(try await fx.inTenant { try await $0.spans(traceID: F.traceID(20)) }.isEmpty)
            #expect(try await fx.inTenant { try await $0.spans(traceID: F.traceID(22)) }.isEmpty)
            #expect(try await fx.inTenant { try await $0.spans(traceID: F.traceID(21)) }.count == 2)
            #expect(await job.runOnce().traces == 0)
        }
    }

    @Test("insert figures: 500-span batches (multi-row INSERT + summary)")
    func insertFigures() async throws {
        try await F.with("spans_figures") { fx in
            let clock = ContinuousClock()
            var durations: [Duration] = []
            for round in 0..<6 {
                var batch: [NormalizedSpan] = []
                for trace in 0..<50 {
                    for n in 0..<10 {
                        batch.append(F.span(trace: 1000 * round + trace, n, parent: n == 0 ? nil : 0, project: fx.projectID,
                                            name: "s\(n)", category: n % 3 == 0 ? .llm : .tool, start: Double(n), end: Double(n) + 0.5,
                                            model: "gpt-4o", cost: "0.001", tokens: TokenUsage(uncachedInput: 100, output: 20)))
                    }
                }
                let started = clock.now
                let inserted = try await fx.insert(batch)
                durations.append(clock.now - started)
                #expect(inserted == 500)
            }
            let steady = durations.dropFirst().sorted()
            print("SpanRepository.insert 500 spans / 50 traces: median \(steady[steady.count / 2]), all \(durations)")
        }
    }
}

