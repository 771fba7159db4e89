import Foundation
import PostgresNIO
public import LLMLabStore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Stores ingested spans in the tenants' `spans` / `traces` in batches, and tells each
/// exporter "done" only once its spans are durable — committed in PostgreSQL or written to
/// the local spool.
///
/// ``accept(_:tenant:)`` queues the spans (a lock and an append) and waits. The service's
/// loop drains the queue every ``Configuration/flushInterval``, or as soon as
/// ``Configuration/batchSize`` spans are waiting: up to a batch at a time, one tenant
/// transaction per tenant (``SpanRepository/insert(_:)``: spans plus the trace summaries).
/// A full queue (``Configuration/maxQueuedSpans``) refuses new spans with
/// `IngestError(.overloaded, retryAfterSeconds: 1)`, so exporters back off instead of
/// piling up memory.
///
/// When PostgreSQL is unreachable (or a write outlasts ``Configuration/writeTimeout``) the
/// batch goes to the spool (`<spool>/spans-*.jsonl`) and is acknowledged; spool files are
/// replayed at start and every ``Configuration/replayInterval`` and deleted once committed.
/// Inserts are idempotent on (trace id, span id), so a repeated replay never duplicates.
/// Spans the database rejects (bad data, a deleted tenant) fail their own request with
/// `.invalid` and never block the others.
///
/// Put it in the ServiceGroup after the database and before the ingest endpoints, so it
/// stops after them (flushing what they queued last) and before the database.
public final class SpanWriter: Service, SpanSink, Sendable {
    public struct Configuration: Sendable {
        /// Where batches go when the database cannot take them.
        public var spoolDirectory: String
        /// Spans held in memory at most; beyond that ``accept(_:tenant:)`` answers overloaded.
        public var maxQueuedSpans: Int = 20_000
        /// Spans per write, and the queue depth that triggers a write before the interval.
        public var batchSize: Int = 500
        /// Batches written at once (each in its own transaction).
        public var concurrentWrites: Int = 2
        public var flushInterval: Duration = .milliseconds(100)
        public var replayInterval: Duration = .seconds(30)
        /// A database write that takes longer than this counts as failed (and is spooled).
        public var writeTimeout: Duration = .seconds(5)

        public init(spoolDirectory: String) {
            self.spoolDirectory = spoolDirectory
        }
    }

    /// One `accept` call: its spans and the caller waiting for them to be durable.
    private struct Pending: Sendable {
        var tenantID: UUID
        var spans: [NormalizedSpan]
        var continuation: CheckedContinuation<Void, any Error>?
    }

    private struct State {
        var queue: [Pending] = []
        var queuedSpans = 0
        var spoolBytes: Int64 = 0
        var stopped = false
        /// Spans written per tenant since this process last analysed its span tables.
        var writtenSinceAnalyze: [UUID: Int] = [:]
        /// The next count at which to analyse, per tenant (grows ×4; stops at the last step).
        var analyzeAt: [UUID: Int] = [:]
    }

    /// Spans written to a tenant before its span tables are analysed, then ×4 each time up
    /// to the last step; autovacuum takes over after that.
    static let analyzeSteps = [2_000, 8_000, 32_000, 128_000]

    public let configuration: Configuration
    let database: Database
    let logger: Logger
    private let state = Mutex(State())
    private let spool: JSONLinesSpool<SpooledSpan>
    /// Serialises draining, spooling and replay (the loop, ``flush()`` and ``replaySpool()``).
    private let gate = AsyncSerialGate()
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(database: Database, configuration: Configuration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.spool = JSONLinesSpool(directory: configuration.spoolDirectory, prefix: "spans")
        (self.wakeups, self.wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let bytes = spool.totalBytes()
        state.withLock { $0.spoolBytes = bytes }
    }

    /// Spans waiting in memory (metrics).
    public var queueDepth: Int { state.withLock { $0.queuedSpans } }
    /// Bytes in spool files waiting for replay (metrics).
    public var spoolBytes: Int64 { state.withLock { $0.spoolBytes } }

    // MARK: SpanSink

    /// Queues the spans and returns once they are committed or spooled. Content is dropped
    /// here when the project does not capture it, whatever the mapper produced.
    public func accept(_ spans: [NormalizedSpan], tenant: TenantIngest) async throws {
        guard !spans.isEmpty else { return }
        var spans = spans
        if !tenant.captureContent {
            for index in spans.indices where !spans[index].contentJSON.isEmpty {
                spans[index].contentJSON = ""
            }
        }
        let batch = spans
        let maxQueued = configuration.maxQueuedSpans
        let batchSize = configuration.batchSize
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Outcome { case queued(wake: Bool), overloaded(Int), stopped }
            let outcome = state.withLock { state -> Outcome in
                if state.stopped { return .stopped }
                // One request larger than the whole queue is still taken when the queue is empty.
                if state.queuedSpans > 0 && state.queuedSpans + batch.count > maxQueued {
                    return .overloaded(state.queuedSpans)
                }
                state.queue.append(Pending(tenantID: tenant.tenantID, spans: batch, continuation: continuation))
                state.queuedSpans += batch.count
                return .queued(wake: state.queuedSpans >= batchSize)
            }
            switch outcome {
            case .queued(let wakeNow):
                if wakeNow { wake.yield() }
            case .overloaded(let depth):
                continuation.resume(throwing: IngestError(
                    .overloaded, "the span queue is full (\(depth) spans waiting); retry in a second", retryAfterSeconds: 1))
            case .stopped:
                continuation.resume(throwing: IngestError(
                    .unavailable, "the span writer is shutting down; retry shortly", retryAfterSeconds: 5))
            }
        }
    }

    // MARK: Service

    public func run() async throws {
        await replaySpool()
        let interval = configuration.flushInterval
        let replayEvery = configuration.replayInterval
        let wake = self.wake
        let wakeups = self.wakeups
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        wake.yield()
                    }
                }
                var lastReplay = ContinuousClock.now
                for await _ in wakeups {
                    if Task.isCancelled { break }
                    await self.flush()
                    if ContinuousClock.now - lastReplay >= replayEvery {
                        lastReplay = .now
                        await self.replaySpool()
                    }
                }
                group.cancelAll()
            }
        }
        // The ingest endpoints have stopped (they are later in the group): refuse new spans,
        // then write what is left.
        state.withLock { $0.stopped = true }
        await flush()
        logger.info("span writer stopped", metadata: ["spool_bytes": "\(spoolBytes)"])
    }

    /// Writes everything queued now (to the database, else the spool) and resumes the
    /// waiting callers before returning.
    public func flush() async {
        await gate.withLock {
            var databaseUp = true
            while true {
                // Up to `concurrentWrites` batches in flight: PostgreSQL works on one batch
                // while the next is sent (per-trace advisory locks, taken in order, keep two
                // batches of one trace from racing on its summary).
                var batches: [[Pending]] = []
                for _ in 0..<max(1, configuration.concurrentWrites) {
                    let batch = takeBatch()
                    if batch.isEmpty { break }
                    batches.append(batch)
                }
                if batches.isEmpty { break }
                if !databaseUp {
                    for batch in batches { spoolAll(batch) }
                    continue
                }
                let results = await withTaskGroup(of: Bool.self) { group in
                    for batch in batches {
                        group.addTask { await self.writeOrSpool(batch) }
                    }
                    var all = true
                    for await up in group { all = all && up }
                    return all
                }
                databaseUp = results
            }
        }
    }

    /// Writes one batch, tenant by tenant (one transaction each); false when the database
    /// was unreachable (the rest of the batch is spooled).
    private func writeOrSpool(_ batch: [Pending]) async -> Bool {
        var byTenant: [UUID: [Pending]] = [:]
        var order: [UUID] = []
        for pending in batch {
            if byTenant[pending.tenantID] == nil { order.append(pending.tenantID) }
            byTenant[pending.tenantID, default: []].append(pending)
        }
        var databaseUp = true
        for tenantID in order {
            let entries = byTenant[tenantID] ?? []
            if databaseUp {
                databaseUp = await writeOrSpool(entries, tenantID: tenantID)
            } else {
                spoolAndResume(entries, tenantID: tenantID)
            }
        }
        return databaseUp
    }

    private func spoolAll(_ batch: [Pending]) {
        var byTenant: [UUID: [Pending]] = [:]
        for pending in batch { byTenant[pending.tenantID, default: []].append(pending) }
        for (tenantID, entries) in byTenant { spoolAndResume(entries, tenantID: tenantID) }
    }

    /// Removes whole requests from the queue, up to about one batch of spans.
    private func takeBatch() -> [Pending] {
        let batchSize = configuration.batchSize
        return state.withLock { state in
            var taken = 0
            var count = 0
            for pending in state.queue {
                if count > 0 && taken + pending.spans.count > batchSize { break }
                taken += pending.spans.count
                count += 1
            }
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            state.queuedSpans -= taken
            return batch
        }
    }

    /// Writes one tenant's requests in one transaction. If the database is unreachable they
    /// are spooled (returns false: spool the rest of this flush without trying); if it
    /// rejects them, each request is retried alone so only the bad one fails.
    private func writeOrSpool(_ entries: [Pending], tenantID: UUID) async -> Bool {
        do {
            try await write(entries.flatMap(\.spans), tenantID: tenantID)
            for entry in entries { entry.continuation?.resume() }
            return true
        } catch where Self.isUnavailable(error) {
            logger.warning("span write failed; spooling the batch",
                           metadata: ["spans": "\(entries.reduce(0) { $0 + $1.spans.count })", "error": "\(String(reflecting: error))"])
            spoolAndResume(entries, tenantID: tenantID)
            return false
        } catch {
            guard entries.count > 1 else {
                reject(entries[0], error: error)
                return true
            }
            for (index, entry) in entries.enumerated() {
                do {
                    try await write(entry.spans, tenantID: tenantID)
                    entry.continuation?.resume()
                } catch where Self.isUnavailable(error) {
                    spoolAndResume(Array(entries[index...]), tenantID: tenantID)
                    return false
                } catch {
                    reject(entry, error: error)
                }
            }
            return true
        }
    }

    private func reject(_ entry: Pending, error: any Error) {
        let reason = postgresServerMessage(error) ?? "the database rejected them"
        logger.error("spans rejected by the database", metadata: ["spans": "\(entry.spans.count)", "error": "\(String(reflecting: error))"])
        entry.continuation?.resume(throwing: IngestError(.invalid, "spans could not be stored: \(reason)"))
    }

    private func spoolAndResume(_ entries: [Pending], tenantID: UUID) {
        let records = entries.flatMap { $0.spans.map { SpooledSpan($0, tenantID: tenantID) } }
        do {
            let bytes = try spool.write(records)
            state.withLock { $0.spoolBytes += bytes }
            for entry in entries { entry.continuation?.resume() }
        } catch {
            logger.critical("could not spool spans; the exporters will retry",
                            metadata: ["spans": "\(records.count)", "directory": "\(spool.directory)", "error": "\(error)"])
            for entry in entries {
                entry.continuation?.resume(throwing: IngestError(
                    .unavailable, "spans could not be stored right now; retry later", retryAfterSeconds: 5))
            }
        }
    }

    // MARK: Spool replay

    /// Replays spool files, oldest first; stops at the first file the database cannot take
    /// now (it stays for the next attempt). A file the database rejects outright is set
    /// aside as `.rejected`. Returns the number of spans newly inserted.
    @discardableResult
    public func replaySpool() async -> Int {
        await gate.withLock {
            var inserted = 0
            for file in spool.files() {
                guard let (records, unreadable) = spool.read(file).map({ ($0.records, $0.unreadableLines) }) else { continue }
                if unreadable > 0 {
                    logger.error("span spool file has unreadable lines; keeping a copy", metadata: ["file": "\(file)", "lines": "\(unreadable)"])
                    spool.keepCopy(of: file, suffix: "unreadable")
                }
                var byTenant: [UUID: [NormalizedSpan]] = [:]
                for record in records { byTenant[record.tenantID, default: []].append(record.span) }
                do {
                    for (tenantID, spans) in byTenant.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                        var start = 0
                        while start < spans.count {
                            let end = min(start + configuration.batchSize, spans.count)
                            inserted += try await write(Array(spans[start..<end]), tenantID: tenantID)
                            start = end
                        }
                    }
                    try spool.remove(file)
                    logger.info("replayed span spool file", metadata: ["file": "\(file)", "spans": "\(records.count)"])
                } catch where Self.isUnavailable(error) {
                    logger.warning("span spool replay failed; will retry", metadata: ["file": "\(file)", "error": "\(String(reflecting: error))"])
                    break
                } catch {
                    logger.error("the database rejects a span spool file; setting it aside",
                                 metadata: ["file": "\(file)", "error": "\(String(reflecting: error))"])
                    try? spool.setAside(file, suffix: "rejected")
                }
            }
            let bytes = spool.totalBytes()
            state.withLock { $0.spoolBytes = bytes }
            return inserted
        }
    }

    /// The spool files waiting for replay, oldest first.
    public func spoolFiles() -> [String] { spool.files() }

    // MARK: Database

    @discardableResult
    private func write(_ spans: [NormalizedSpan], tenantID: UUID) async throws -> Int {
        let database = self.database
        let logger = self.logger
        let timeout = configuration.writeTimeout
        let inserted = try await withDeadline(timeout, what: "the span write") {
            try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                try await SpanRepository(connection, logger: logger).insert(spans)
            }
        }
        await analyzeIfGrown(tenantID: tenantID, written: inserted)
        return inserted
    }

    /// Analyses a tenant's `spans` and `traces` once they have grown past the next step.
    ///
    /// A new tenant's tables have no statistics until autovacuum first gets to them; until
    /// then the planner treats them as empty and the per-batch summary rebuild falls back to
    /// sequential scans, which made ingest about 4× slower within a minute (measured by
    /// `make bench-ingest`). A few early ANALYZEs keep plans on the indexes.
    private func analyzeIfGrown(tenantID: UUID, written: Int) async {
        let due: Bool = state.withLock { state in
            state.writtenSinceAnalyze[tenantID, default: 0] += written
            let threshold = state.analyzeAt[tenantID] ?? Self.analyzeSteps[0]
            guard threshold > 0, state.writtenSinceAnalyze[tenantID, default: 0] >= threshold else { return false }
            let next = Self.analyzeSteps.first { $0 > threshold } ?? 0
            state.analyzeAt[tenantID] = next
            return true
        }
        guard due else { return }
        let schema = TenantScope(tenantID: tenantID).schemaName
        do {
            // The login role owns the tenant tables; ANALYZE runs as it, schema-qualified.
            try await database.withControlTransaction { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "ANALYZE \"\(schema)\".spans, \"\(schema)\".traces"), logger: logger)
            }
        } catch {
            logger.debug("could not analyse span tables", metadata: ["tenant_schema": "\(schema)", "error": "\(String(reflecting: error))"])
        }
    }

    /// Worth spooling and retrying: the database is unreachable or too slow.
    static func isUnavailable(_ error: any Error) -> Bool {
        error is DeadlineExceeded || error is CancellationError || isConnectionFailure(error)
    }
}

