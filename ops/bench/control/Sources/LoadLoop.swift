import GRPCCore

/// Runs one measured phase: `workers` concurrent loops, each calling `call(worker)` back to
/// back until the deadline, timing every call. Warm-up calls (connection set-up, TLS
/// handshake, first-use caches) run first and are not counted. Bounded: a worker stops at
/// the deadline (a call in flight then finishes) or after too many consecutive errors.
enum LoadLoop {
    /// Consecutive failures after which a worker gives up (a dead server must not spin).
    static let maxConsecutiveErrors = 50

    struct Outcome: Sendable {
        var latenciesMs: [Double]
        var errors: [String: Int]
        var elapsedSeconds: Double
        var abortedWorkers: Int
    }

    private struct WorkerResult: Sendable {
        var latenciesMs: [Double] = []
        var errors: [String: Int] = [:]
        var aborted = false
    }

    static func run(
        workers: Int, duration: Duration, warmupCalls: Int,
        call: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> Outcome {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for attempt in 0..<warmupCalls {
                        do {
                            try await call(worker)
                        } catch {
                            throw BenchError("warm-up call \(attempt + 1) of worker \(worker) failed: \(describe(error))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }

        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let results = await withTaskGroup(of: WorkerResult.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var result = WorkerResult()
                    result.latenciesMs.reserveCapacity(4096)
                    var consecutiveErrors = 0
                    while clock.now < deadline, !Task.isCancelled {
                        let begin = clock.now
                        do {
                            try await call(worker)
                            result.latenciesMs.append(milliseconds(clock.now - begin))
                            consecutiveErrors = 0
                        } catch {
                            result.errors[describe(error), default: 0] += 1
                            consecutiveErrors += 1
                            if consecutiveErrors >= maxConsecutiveErrors {
                                result.aborted = true
                                break
                            }
                        }
                    }
                    return result
                }
            }
            var all: [WorkerResult] = []
            for await result in group { all.append(result) }
            return all
        }
        let elapsed = clock.now - start
        var outcome = Outcome(latenciesMs: [], errors: [:], elapsedSeconds: seconds(elapsed), abortedWorkers: 0)
        for result in results {
            outcome.latenciesMs += result.latenciesMs
            outcome.errors.merge(result.errors, uniquingKeysWith: +)
            if result.aborted { outcome.abortedWorkers += 1 }
        }
        return outcome
    }

    static func milliseconds(_ duration: Duration) -> Double {
        seconds(duration) * 1000
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    /// A short, stable key for an error (gRPC code plus message), used to count them.
    static func describe(_ error: any Error) -> String {
        if let error = error as? RPCError { return "\(error.code): \(error.message)" }
        return String(describing: error)
    }
}

/// Latency percentiles and throughput of one phase.
struct PhaseSummary: Codable, Sendable {
    var name: String
    var concurrency: Int
    var calls: Int
    var errors: Int
    var errorKinds: [String: Int]
    var abortedWorkers: Int
    var elapsedSeconds: Double
    var throughputPerSecond: Double
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var maxMs: Double
    var meanMs: Double

    init(name: String, concurrency: Int, outcome: LoadLoop.Outcome) {
        let sorted = outcome.latenciesMs.sorted()
        self.name = name
        self.concurrency = concurrency
        calls = sorted.count
        errors = outcome.errors.values.reduce(0, +)
        errorKinds = outcome.errors
        abortedWorkers = outcome.abortedWorkers
        elapsedSeconds = Self.round(outcome.elapsedSeconds)
        throughputPerSecond = Self.round(outcome.elapsedSeconds > 0 ? Double(sorted.count) / outcome.elapsedSeconds : 0)
        p50Ms = Self.round(Self.percentile(sorted, 50))
        p90Ms = Self.round(Self.percentile(sorted, 90))
        p99Ms = Self.round(Self.percentile(sorted, 99))
        maxMs = Self.round(sorted.last ?? 0)
        meanMs = Self.round(sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count))
    }

    /// Nearest-rank percentile of an ascending array (0 when empty).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    static func round(_ value: Double) -> Double {
        (value * 100).rounded() / 100
    }
}
