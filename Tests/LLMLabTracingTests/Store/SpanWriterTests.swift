import Foundation
import PostgresNIO
import LLMLabCore
import LLMLabStore
import LLMLabTestSupport
import LLMLabTracing
import Logging
import Synchronization
import Testing

@Suite("Span writer")
struct SpanWriterTests {
    typealias F = TraceStoreFixture

    static func spoolDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-span-spool-\(UUID().uuidString)").path
    }

    /// Runs `writer` as a service for the duration of `body`, then stops it (graceful path:
    /// cancellation, final flush).
    static func running<R: Sendable>(_ writer: SpanWriter, _ body: () async throws -> R) async throws -> R {
        let task = Task { try await writer.run() }
        do {
            let result = try await body()
            task.cancel()
            try await task.value
            return result
        } catch {
            task.cancel()
            _ = try? await task.value
            throw error
        }
    }

    @Test("accept returns once the spans are committed; content is dropped unless the project captures it")
    func acknowledgesAfterCommit() async throws {
        try await F.with("writer_commit") { fx in
            var configuration = SpanWriter.Configuration(spoolDirectory: Self.spoolDirectory())
            configuration.flushInterval = .milliseconds(30)
            let writer = SpanWriter(database: fx.database, configuration: configuration, logger: F.logger)
            let tenant = TenantIngest(tenantID: fx.tenantID, projectID: fx.projectID, captureContent: false)
            try await Self.running(writer) {
                try await writer.accept([
                    F.span(trace: 1, 1, project: fx.projectID, name: "root", start: 0, end: 1, content: #"{"prompt":"hi"}"#),
                ], tenant: tenant)
                // No flush, no wait: acknowledged means committed.
                let spans = try await fx.inTenant { try await $0.spans(traceID: F.traceID(1)) }
                #expect(spans.count == 1)
                #expect(spans.first?.contentJSON == "")
                #expect(try await fx.inTenant { try await $0.summary(traceID: F.traceID(1)) }?.rootName == "root")

                let capturing = TenantIngest(tenantID: fx.tenantID, projectID: fx.projectID, captureContent: true)
                // Concurrent requests for several traces, batched together by the writer.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for trace in 2..<12 {
                        group.addTask {
                            try await writer.accept([
                                F.span(trace: trace, 1, project: fx.projectID, start: 0, end: 1, content: #"{"prompt":"hi"}"#),
                                F.span(trace: trace, 2, parent: 1, project: fx.projectID, start: 0, end: 1),
                            ], tenant: capturing)
                        }
                    }
                    try await group.waitForAll()
                }
                let page = try await fx.inTenant { try await $0.listTraces(filter: TraceFilter(), limit: 100) }
                #expect(page.traces.count == 11)
                let captured = try await fx.inTenant { try await $0.spans(traceID: F.traceID(5)) }
                #expect(captured.first?.contentJSON.contains("prompt") == true)
                #expect(writer.queueDepth == 0)
                #expect(writer.spoolFiles().isEmpty)
            }
            // Stopped: new spans are refused rather than left waiting.
            await #expect(throws: IngestError.self) {
                try await writer.accept([F.span(trace: 99, 1, project: fx.projectID, start: 0, end: 1)], tenant: tenant)
            }
        }
    }

    @Test("a full queue answers overloaded with Retry-After 1; queued callers still complete")
    func overloaded() async throws {
        try await F.with("writer_overload") { fx in
            var configuration = SpanWriter.Configuration(spoolDirectory: Self.spoolDirectory())
            configuration.maxQueuedSpans = 10
            let writer = SpanWriter(database: fx.database, configuration: configuration, logger: F.logger)  // not running
            let tenant = TenantIngest(tenantID: fx.tenantID, projectID: fx.projectID, captureContent: false)
            let first = Task {
                try await writer.accept((0..<6).map { F.span(trace: 1, $0, project: fx.projectID, start: 0, end: 1) }, tenant: tenant)
            }
            while writer.queueDepth < 6 { try await Task.sleep(for: .milliseconds(5)) }
            do {
                try await writer.accept((0..<6).map { F.span(trace: 2, $0, project: fx.projectID, start: 0, end: 1) }, tenant: tenant)
                Issue.record("expected overloaded")
            } catch let error as IngestError {
                #expect(error.code == .overloaded)
                #expect(error.retryAfterSeconds == 1)
            }
            #expect(writer.queueDepth == 6)
            await writer.flush()
            try await first.value
            #expect(writer.queueDepth == 0)
            #expect(try await fx.inTenant { try await $0.summary(traceID: F.traceID(1)) }?.spanCount == 6)
            #expect(try await fx.inTenant { try await $0.summary(traceID: F.traceID(2)) } == nil)
        }
    }

    @Test("database unreachable: spans spool and are acknowledged; replay inserts them exactly once")
    func spoolAndReplay() async throws {
        try await F.with("writer_spool") { fx in
            var unreachable = fx.test.configuration
            unreachable.host = "127.0.0.1"
            unreachable.unixSocketPath = nil
            unreachable.port = 1  // nothing listens here: connection refused
            let downDatabase = Database(configuration: unreachable, logger: F.logger)
            let downTask = Task { await downDatabase.run() }
            defer { downTask.cancel() }

            let directory = Self.spoolDirectory()
            var configuration = SpanWriter.Configuration(spoolDirectory: directory)
            configuration.flushInterval = .milliseconds(20)
            configuration.writeTimeout = .seconds(2)
            let writer = SpanWriter(database: downDatabase, configuration: configuration, logger: F.logger)
            let tenant = TenantIngest(tenantID: fx.tenantID, projectID: fx.projectID, captureContent: false)
            try await Self.running(writer) {
                try await writer.accept([
                    F.span(trace: 5, 2, parent: 1, project: fx.projectID, name: "llm", category: .llm, start: 1, end: 2,
                           model: "gpt-4o", cost: "0.123456789012"),
                ], tenant: tenant)
                try await writer.accept([F.span(trace: 5, 1, project: fx.projectID, name: "root", start: 0, end: 3)], tenant: tenant)
            }
            let files = writer.spoolFiles()
            #expect(!files.isEmpty)
            #expect(writer.spoolBytes > 0)
            let attributes = try FileManager.default.attributesOfItem(atPath: directory)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
            #expect(try await fx.inTenant { try await $0.spans(traceID: F.traceID(5)) }.isEmpty)

            let copies = Self.spoolDirectory()
            try FileManager.default.copyItem(atPath: directory, toPath: copies)

            // The database is back: a writer on the real one, same spool.
            let replayer = SpanWriter(database: fx.database, configuration: .init(spoolDirectory: directory), logger: F.logger)
            #expect(await replayer.replaySpool() == 2)
            #expect(replayer.spoolFiles().isEmpty)
            #expect(replayer.spoolBytes == 0)
            let summary = try #require(try await fx.inTenant { try await $0.summary(traceID: F.traceID(5)) })
            #expect(summary.rootName == "root")
            #expect(summary.spanCount == 2)
            #expect(summary.costUSD == "0.123456789012")

            // Replaying the same files again inserts nothing.
            for file in files { try FileManager.default.copyItem(atPath: copies + "/" + file, toPath: directory + "/" + file) }
            #expect(await replayer.replaySpool() == 0)
            #expect(replayer.spoolFiles().isEmpty)
            #expect(try await fx.inTenant { try await $0.spans(traceID: F.traceID(5)) }.count == 2)
            try? FileManager.default.removeItem(atPath: copies)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test("spans the database rejects fail only their own request")
    func rejectedRequestIsolated() async throws {
        try await F.with("writer_reject") { fx in
            var configuration = SpanWriter.Configuration(spoolDirectory: Self.spoolDirectory())
            configuration.flushInterval = .seconds(60)
            let writer = SpanWriter(database: fx.database, configuration: configuration, logger: F.logger)
            let tenant = TenantIngest(tenantID: fx.tenantID, projectID: fx.projectID, captureContent: false)
            var bad = F.span(trace: 8, 1, project: fx.projectID, start: 0, end: 1)
            bad.attributesJSON = "{not json"
            let badTask = Task { try await writer.accept([bad], tenant: tenant) }
            let goodTask = Task { try await writer.accept([F.span(trace: 9, 1, project: fx.projectID, start: 0, end: 1)], tenant: tenant) }
            while writer.queueDepth < 2 { try await Task.sleep(for: .milliseconds(5)) }
            await writer.flush()
            try await goodTask.value
            await #expect(throws: IngestError.self) { try await badTask.value }
            #expect(try await fx.inTenant { try await $0.summary(traceID: F.traceID(9)) } != nil)
            #expect(writer.spoolFiles().isEmpty)
        }
    }
}

@Suite("Span writer statistics")
struct SpanWriterStatisticsTests {
    @Test("after the first 2,000 spans of a tenant its span tables have statistics (ANALYZE ran)")
    func analyzesEarly() async throws {
        try await TraceStoreFixture.with("span-writer-analyze") { fixture in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-spans-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let writer = SpanWriter(database: fixture.database, configuration: .init(spoolDirectory: directory), logger: TraceStoreFixture.logger)
            let schema = fixture.scope.schemaName
            func analyzed() async throws -> Bool {
                try await fixture.database.withControlTransaction { connection in
                    let rows = try await connection.query(
                        "SELECT count(*)::int8 FROM pg_stat_user_tables WHERE schemaname = \(schema) AND relname IN ('spans', 'traces') AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)",
                        logger: TraceStoreFixture.logger)
                    for try await (count) in rows.decode(Int64.self) { return count == 2 }
                    return false
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.run() }
                let tenant = TenantIngest(tenantID: fixture.tenantID, projectID: fixture.projectID, captureContent: false)
                for batch in 0..<5 {
                    var spans: [NormalizedSpan] = []
                    for n in 0..<500 {
                        let trace: Int = batch * 1000 + n / 5
                        let start = Double(n)
                        spans.append(TraceStoreFixture.span(trace: trace, n % 5, project: fixture.projectID, start: start, end: start + 1))
                    }
                    try await writer.accept(spans, tenant: tenant)
                }
                // Statistics views are updated asynchronously by the stats collector.
                var done = false
                for _ in 0..<50 where !done {
                    done = try await analyzed()
                    if !done { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(done)
                group.cancelAll()
            }
        }
    }
}
