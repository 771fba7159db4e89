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
    /// Serialises draining, spooling and replay (the loop, ``flush()`` and ``replaySpool()``).
    private let gate = AsyncGate()

    public init(database: Database, configuration: Configuration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        state.withLock { $0.spoolBytes = Self.spoolSize(configuration.spoolDirectory) }
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
            for file in spoolFiles() {
                let path = configuration.spoolDirectory + "/" + file
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                var events: [UsageEventRecord] = []
                var unreadable = 0
                let decoder = JSONDecoder()
                for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                    if let event = try? decoder.decode(UsageEventRecord.self, from: Data(line)) {
                        events.append(event)
                    } else {
                        unreadable += 1
                    }
                }
                if unreadable > 0 {
                    logger.error("spool file has unreadable lines; keeping a copy", metadata: ["file": "\(file)", "lines": "\(unreadable)"])
                    try? FileManager.default.copyItem(atPath: path, toPath: path + ".unreadable")
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
                    try FileManager.default.removeItem(atPath: path)
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
        let names = (try? FileManager.default.contentsOfDirectory(atPath: configuration.spoolDirectory)) ?? []
        return names.filter { $0.hasPrefix("usage-") && $0.hasSuffix(".jsonl") }.sorted()
    }

    // MARK: Database

    private func write(_ events: [UsageEventRecord], tenantID: UUID) async throws -> Int {
        let database = self.database
        let logger = self.logger
        let timeout = configuration.writeTimeout
        return try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                    try await UsageEventRepository(connection, logger: logger).insert(events)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let inserted = first else {
                throw UsageWriteTimeout()
            }
            return inserted
        }
    }

    // MARK: Spool

    /// Appends events to a new spool file (written aside, then renamed into place, so a
    /// replay never reads half a file).
    private func spool(_ events: [UsageEventRecord]) {
        guard !events.isEmpty else { return }
        let directory = configuration.spoolDirectory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var data = Data()
            for event in events {
                data.append(try encoder.encode(event))
                data.append(UInt8(ascii: "\n"))
            }
            let stamp = Self.timestamp()
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let name = "usage-\(stamp)-\(suffix).jsonl"
            let temporary = directory + "/." + name + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            try FileManager.default.moveItem(atPath: temporary, toPath: directory + "/" + name)
            state.withLock { $0.spoolBytes += Int64(data.count) }
        } catch {
            logger.critical("could not spool usage events; they are lost",
                            metadata: ["events": "\(events.count)", "directory": "\(directory)", "error": "\(error)"])
        }
    }

    private func refreshSpoolBytes() {
        let size = Self.spoolSize(configuration.spoolDirectory)
        state.withLock { $0.spoolBytes = size }
    }

    static func spoolSize(_ directory: String) -> Int64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var total: Int64 = 0
        for name in names where name.hasPrefix("usage-") && name.hasSuffix(".jsonl") {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        }
        return total
    }

    /// `20261129T042036.123Z`: sorts in time order.
    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return formatter.string(from: Date())
    }
}

struct UsageWriteTimeout: Error, CustomStringConvertible {
    var description: String { "the usage write did not finish in time" }
}

/// A FIFO async mutex (waiters are not cancellable; holders are short).
final class AsyncGate: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func withLock<R: Sendable>(_ body: () async -> R) async -> R {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state in
                if state.locked {
                    state.waiters.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if acquired { continuation.resume() }
        }
        let result = await body()
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
        return result
    }
}
