public import Foundation
public import LLMLabStore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Writes usage events to the tenants' `usage_events` without making any request wait on
/// the database.
///
/// Requests call ``enqueue(_:)`` (a lock and an append). The service's loop drains the
/// in-memory queue every ``Configuration/flushInterval`` in batches of at most
/// ``Configuration/batchSize``: one multi-row INSERT per tenant inside that tenant's
/// transaction, which also updates `usage_hourly` (see ``UsageEventRepository/insert(_:)``).
///
/// When PostgreSQL is unreachable or a write fails, the batch is appended to the spool as
/// JSON lines (`<spool>/usage-<timestamp>-<random>.jsonl`, directory 0700), and so is an
/// event that finds the queue full. Spool files are replayed at start and every
/// ``Configuration/replayInterval``; a file is deleted only after all its events are
/// committed. Inserts are idempotent by request id, so a replay that is interrupted and
/// repeated never double counts.
///
/// Put it in the ServiceGroup after the database and before the HTTP application, so it
/// stops after the application (and flushes what the last requests queued) and before
/// the database.
public final class UsageWriter: Service, Sendable {
    public struct Configuration: Sendable {
        /// Where batches go when the database cannot take them.
        public var spoolDirectory: String
        /// Events held in memory at most; more spill to the spool.
        public var capacity: Int = 10_000
        public var batchSize: Int = 500
        public var flushInterval: Duration = .milliseconds(200)
        public var replayInterval: Duration = .seconds(30)
        /// A database write that takes longer than this counts as failed (and is spooled).
        public var writeTimeout: Duration = .seconds(5)

        public init(spoolDirectory: String) {
            self.spoolDirectory = spoolDirectory
        }
    }

    private struct State {
        var queue: [UsageEventRecord] = []
        var spoolBytes: Int64 = 0
    }

    public let configuration: Configuration
    let database: Database
    let logger: Logger
    private let state = Mutex(State())
    /// The JSON-lines spool shared with the span writer's machinery (``JSONLinesSpool``).
    private let spoolStore: JSONLinesSpool<UsageEventRecord>
    /// Serialises draining, spooling and replay (the loop, ``flush()`` and ``replaySpool()``).
    private let gate = AsyncSerialGate()

    public init(database: Database, configuration: Configuration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.spoolStore = JSONLinesSpool(directory: configuration.spoolDirectory, prefix: "usage")
        let bytes = spoolStore.totalBytes()
        state.withLock { $0.spoolBytes = bytes }
    }

    public var queueDepth: Int { state.withLock { $0.queue.count } }
    public var spoolBytes: Int64 { state.withLock { $0.spoolBytes } }

    /// Queues one event; never waits. A full queue spills the event to the spool.
    public func enqueue(_ event: UsageEventRecord) {
        let accepted = state.withLock { state in
            guard state.queue.count < configuration.capacity else { return false }
            state.queue.append(event)
            return true
        }
        if !accepted {
            logger.warning("usage queue full; spooling the event", metadata: ["request_id": "\(event.requestID)"])
            spool([event])
        }
    }

    public func run() async throws {
        await replaySpool()
        let interval = configuration.flushInterval
        let replayEvery = configuration.replayInterval
        await cancelWhenGracefulShutdown {
            var lastReplay = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await self.flush()
                if ContinuousClock.now - lastReplay >= replayEvery {
                    lastReplay = .now
                    await self.replaySpool()
                }
            }
        }
        // The HTTP application has stopped (it is later in the group): write what is left.
        await flush()
        logger.info("usage writer stopped", metadata: ["spool_bytes": "\(spoolBytes)"])
    }

    /// Writes everything queued now (to the database, else the spool) before returning.
    public func flush() async {
        await gate.withLock {
            var databaseUp = true
            while true {
                let batch = state.withLock { state -> [UsageEventRecord] in
                    let count = min(configuration.batchSize, state.queue.count)
                    let batch = Array(state.queue.prefix(count))
                    state.queue.removeFirst(count)
                    return batch
                }
                if batch.isEmpty { break }
                guard databaseUp else {
                    spool(batch)
                    continue
                }
                for (tenantID, events) in Dictionary(grouping: batch, by: \.tenantID) {
                    guard databaseUp else {
                        spool(events)
                        continue
                    }
                    do {
                        _ = try await write(events, tenantID: tenantID)
                    } catch {
                        databaseUp = false
                        logger.warning("usage write failed; spooling the batch",
                                       metadata: ["events": "\(events.count)", "error": "\(String(reflecting: error))"])
                        spool(events)
                    }
                }
            }
        }
    }

    /// Replays spool files, oldest first; stops at the first file the database does not
    /// take (it stays for the next attempt). Returns the number of events newly inserted.
    @discardableResult
    public func replaySpool() async -> Int {
        await gate.withLock {
            var inserted = 0
            for file in spoolStore.files() {
                guard let contents = spoolStore.read(file) else { continue }
                let events = contents.records
                let unreadable = contents.unreadableLines
                if unreadable > 0 {
                    logger.error("spool file has unreadable lines; keeping a copy", metadata: ["file": "\(file)", "lines": "\(unreadable)"])
                    spoolStore.keepCopy(of: file, suffix: "unreadable")
                }
                do {
                    for (tenantID, tenantEvents) in Dictionary(grouping: events, by: \.tenantID) {
                        var start = 0
                        while start < tenantEvents.count {
                            let end = min(start + configuration.batchSize, tenantEvents.count)
                            inserted += try await write(Array(tenantEvents[start..<end]), tenantID: tenantID)
                            start = end
                        }
                    }
                    try spoolStore.remove(file)
                    logger.info("replayed usage spool file", metadata: ["file": "\(file)", "events": "\(events.count)"])
                } catch {
                    logger.warning("usage spool replay failed; will retry",
                                   metadata: ["file": "\(file)", "error": "\(String(reflecting: error))"])
                    break
                }
            }
            refreshSpoolBytes()
            return inserted
        }
    }

    /// The spool files waiting for replay, oldest first.
    public func spoolFiles() -> [String] {
        spoolStore.files()
    }

    // MARK: Database

    private func write(_ events: [UsageEventRecord], tenantID: UUID) async throws -> Int {
        let database = self.database
        let logger = self.logger
        let timeout = configuration.writeTimeout
        return try await withDeadline(timeout, what: "the usage write") {
            try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                try await UsageEventRepository(connection, logger: logger).insert(events)
            }
        }
    }

    // MARK: Spool

    /// Appends events to a new spool file (written aside, then renamed into place, so a
    /// replay never reads half a file).
    private func spool(_ events: [UsageEventRecord]) {
        guard !events.isEmpty else { return }
        do {
            let bytes = try spoolStore.write(events)
            state.withLock { $0.spoolBytes += bytes }
        } catch {
            logger.critical("could not spool usage events; they are lost",
                            metadata: ["events": "\(events.count)", "directory": "\(configuration.spoolDirectory)", "error": "\(error)"])
        }
    }

    private func refreshSpoolBytes() {
        let size = spoolStore.totalBytes()
        state.withLock { $0.spoolBytes = size }
    }
}

