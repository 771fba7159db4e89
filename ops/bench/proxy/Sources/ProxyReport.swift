import Foundation
import LLMLabBenchSupport

/// Latency percentiles, throughput and errors of one phase (one target, one client count).
struct PhaseSummary: Codable, Sendable {
    var target: String
    var thinkMs: Int
    var concurrency: Int
    var requests: Int
    var errors: Int
    var errorKinds: [String: Int]
    var warmupErrors: Int
    var lostConnections: Int
    var elapsedSeconds: Double
    var requestsPerSecond: Double
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var maxMs: Double
    var meanMs: Double
    var cpu: CPUUse?

    init(target: String, thinkMs: Int, concurrency: Int, outcome: LoadPhase.Outcome) {
        let sorted = outcome.latenciesMs.sorted()
        self.target = target
        self.thinkMs = thinkMs
        self.concurrency = concurrency
        requests = sorted.count
        errorKinds = outcome.errors.merging(outcome.warmupErrors.mapKeys { "warm-up: " + $0 }, uniquingKeysWith: +)
        errors = outcome.errors.values.reduce(0, +)
        warmupErrors = outcome.warmupErrors.values.reduce(0, +)
        lostConnections = outcome.lostConnections
        elapsedSeconds = Self.round(outcome.elapsedSeconds)
        requestsPerSecond = Self.round(outcome.elapsedSeconds > 0 ? Double(sorted.count) / outcome.elapsedSeconds : 0)
        p50Ms = Self.round(Self.percentile(sorted, 50))
        p90Ms = Self.round(Self.percentile(sorted, 90))
        p99Ms = Self.round(Self.percentile(sorted, 99))
        maxMs = Self.round(sorted.last ?? 0)
        meanMs = Self.round(sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count))
        cpu = outcome.cpu
    }

    var hasErrors: Bool { errors > 0 || warmupErrors > 0 || lostConnections > 0 || requests == 0 }

    /// Nearest-rank percentile of an ascending array (0 when empty).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// Microsecond resolution: added latencies are fractions of a millisecond.
    static func round(_ value: Double) -> Double { Rounding.round(value) }
}

extension Dictionary where Key == String {
    fileprivate func mapKeys(_ transform: (String) -> String) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}

/// Direct and proxy phases at the same think time and client count, measured back to back.
struct LatencyComparison: Codable, Sendable {
    var thinkMs: Int
    var concurrency: Int
    var direct: PhaseSummary
    var proxy: PhaseSummary
    /// proxy p50 − direct p50, proxy p99 − direct p99 (ms).
    var addedP50Ms: Double
    var addedP99Ms: Double

    init(direct: PhaseSummary, proxy: PhaseSummary) {
        thinkMs = direct.thinkMs
        concurrency = direct.concurrency
        self.direct = direct
        self.proxy = proxy
        addedP50Ms = PhaseSummary.round(proxy.p50Ms - direct.p50Ms)
        addedP99Ms = PhaseSummary.round(proxy.p99Ms - direct.p99Ms)
    }
}

struct MemoryFigures: Codable, Sendable {
    var serverPid: Int32?
    var serverRSSKiBAfterSetup: Int?
    var serverRSSKiBMaxSampled: Int?
    var serverRSSKiBAtEnd: Int?
    var serverHWMKiBAtEnd: Int?
    var postgresPSSKiBAtEnd: Int?
    var note = "VmRSS/VmHWM from /proc/<pid>/status of llmlab-server, sampled after set-up, after every phase and at the end; the embedded PostgreSQL (postmaster + backends) is separate processes, reported as the sum of their PSS (shared buffers split, not counted per backend)"
}

/// Everything one run measured plus the context needed to read it later.
struct ProxyReport: Codable, Sendable {
    var startedAt: String
    var host: String
    var cores: Int
    var buildConfiguration: String
    var loadAverageAtStart: String
    var loadAverageAtEnd = ""
    var proxyAddress: String
    var upstreamAddress: String
    var request: String
    var durationSeconds: Double
    var rpsDurationSeconds: Double
    var warmupRequestsPerConnection: Int
    var clientEventLoopThreads: Int
    var connectionModel = "one keep-alive HTTP/1.1 connection per client, closed loop (next request as soon as the response ended), driven on NIO event loops; latency = ContinuousClock from writing the request to the end of the response"
    var method = "added latency = proxy percentile − direct percentile at the same think time and client count, measured back to back by the same load generator; load generator, fake upstream, llmlab-server and its PostgreSQL share the machine's cores"
    var latency: [LatencyComparison] = []
    var maxRPS: [PhaseSummary] = []
    var bestRPS: Double = 0
    var bestRPSConcurrency: Int = 0
    var memory = MemoryFigures()
    var targets: [String: String] = [:]
    var totalErrors = 0
    var totalRuntimeSeconds: Double = 0

    var allPhases: [PhaseSummary] { latency.flatMap { [$0.direct, $0.proxy] } + maxRPS }

    func table() -> String {
        var lines: [String] = []
        lines.append("llmlab proxy benchmark — \(startedAt)")
        lines.append("build \(buildConfiguration) · \(cores) cores shared by load generator, fake upstream, llmlab-server and PostgreSQL · load average at start \(loadAverageAtStart)")
        lines.append("\(request)")
        lines.append("\(durationSeconds.f(1)) s per phase after \(warmupRequestsPerConnection) warm-up request(s) per connection; one keep-alive HTTP/1.1 connection per client, closed loop")
        lines.append("")
        lines.append("Added latency = proxy − direct (same percentile; ms); srv cores = llmlab-server CPU during the proxy phase, other = CPU of everything else on the machine then")
        lines.append([p("think", 5), p("clients", 7), "|", p("direct p50", 10), p("p99", 8), p("rps", 8), "|",
                      p("proxy p50", 9), p("p99", 8), p("rps", 8), "|", p("added p50", 9), p("p99", 8), "|", p("srv cores", 9), p("other", 6), p("errors", 6)]
            .joined(separator: " "))
        for row in latency {
            let errors = row.direct.errors + row.direct.warmupErrors + row.proxy.errors + row.proxy.warmupErrors
            lines.append([p("\(row.thinkMs)ms", 5), p("\(row.concurrency)", 7), "|",
                          p(row.direct.p50Ms.f(3), 10), p(row.direct.p99Ms.f(3), 8), p(row.direct.requestsPerSecond.f(0), 8), "|",
                          p(row.proxy.p50Ms.f(3), 9), p(row.proxy.p99Ms.f(3), 8), p(row.proxy.requestsPerSecond.f(0), 8), "|",
                          p(row.addedP50Ms.f(3), 9), p(row.addedP99Ms.f(3), 8), "|",
                          p(row.proxy.cpu?.serverCores?.f(2) ?? "-", 9), p(row.proxy.cpu?.otherCores?.f(2) ?? "-", 6), p("\(errors)", 6)]
                .joined(separator: " "))
        }
        lines.append("")
        lines.append("Maximum non-streaming RPS through the proxy (think 0 ms); CPU in cores (CPU s / wall s), other = rest of the machine")
        lines.append([p("clients", 7), p("requests", 9), p("errors", 6), p("rps", 8), p("p50 ms", 8), p("p99 ms", 8),
                      p("bench", 6), p("server", 6), p("pg", 6), p("fake", 6), p("other", 6)].joined(separator: " "))
        for phase in maxRPS {
            lines.append([p("\(phase.concurrency)", 7), p("\(phase.requests)", 9), p("\(phase.errors + phase.warmupErrors)", 6),
                          p(phase.requestsPerSecond.f(0), 8), p(phase.p50Ms.f(2), 8), p(phase.p99Ms.f(2), 8),
                          p(phase.cpu?.benchCores.f(2) ?? "-", 6), p(phase.cpu?.serverCores?.f(2) ?? "-", 6),
                          p(phase.cpu?.postgresCores?.f(2) ?? "-", 6), p(phase.cpu?.upstreamCores?.f(2) ?? "-", 6),
                          p(phase.cpu?.otherCores?.f(2) ?? "-", 6)]
                .joined(separator: " "))
        }
        lines.append("best: \(bestRPS.f(0)) RPS at \(bestRPSConcurrency) clients")
        lines.append("")
        lines.append("llmlab-server memory: " + [
            memory.serverRSSKiBAfterSetup.map { "RSS after set-up \(mib($0))" },
            memory.serverRSSKiBMaxSampled.map { "max sampled RSS \(mib($0))" },
            memory.serverRSSKiBAtEnd.map { "RSS at end \(mib($0))" },
            memory.serverHWMKiBAtEnd.map { "peak (VmHWM) \(mib($0))" },
        ].compactMap { $0 }.joined(separator: " · "))
        if let pg = memory.postgresPSSKiBAtEnd {
            lines.append("embedded PostgreSQL, separate processes (postmaster + backends, sum of PSS): \(mib(pg)) at end")
        }
        lines.append("")
        lines.append("Targets (measured, not asserted):")
        for (key, value) in targets.sorted(by: { $0.key < $1.key }) { lines.append("  \(key): \(value)") }
        let failing = allPhases.filter(\.hasErrors)
        if !failing.isEmpty {
            lines.append("")
            lines.append(String(repeating: "!", count: 78))
            lines.append("!!! THIS RUN HAD ERRORS: \(totalErrors) failed request(s); the figures above are suspect")
            for phase in failing {
                lines.append("!!! \(phase.target) think \(phase.thinkMs) ms, \(phase.concurrency) client(s): \(phase.errors) error(s), \(phase.warmupErrors) in warm-up, \(phase.lostConnections) connection(s) lost, \(phase.requests) ok")
                for (kind, count) in phase.errorKinds.sorted(by: { $0.value > $1.value }) {
                    lines.append("!!!   \(count)× \(kind)")
                }
            }
            lines.append(String(repeating: "!", count: 78))
        }
        lines.append("")
        lines.append("total runtime \(totalRuntimeSeconds.f(1)) s · load average at end \(loadAverageAtEnd)")
        return lines.joined(separator: "\n")
    }

    private func p(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    private func mib(_ kib: Int) -> String { "\((Double(kib) / 1024).f(1)) MiB" }

    /// Writes `proxy-<UTC timestamp>.json` into `directory` and returns its path.
    func write(to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stamp = startedAt.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let path = (directory as NSString).appendingPathComponent("proxy-\(stamp).json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "n/a" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}

extension Double {
    func f(_ digits: Int) -> String { String(format: "%.\(digits)f", self) }
}
