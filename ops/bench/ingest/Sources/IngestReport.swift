import Foundation
import LLMLabBenchSupport

/// What the generated batches look like (one sample batch of the same generator).
struct Workload: Codable, Sendable {
    var batchSize: Int
    var batchProtobufBytes: Int
    var batchGzipBytes: Int
    var meanAttributesPerLLMSpan: Double
    /// Spans per kind in a sample batch (invoke_agent / chat / execute_tool).
    var spanMix: [String: Int]
    var errorSpans: Int
    var description = "per trace: invoke_agent root, 2–3 chat spans (OpenAI/Anthropic catalog models, request parameters, usage with cache-read and reasoning tokens, finish reasons; ~5 % fail with an exception event), 1–2 execute_tool spans (~8 % fail); random ids, current timestamps; one resource with 8 attributes and one scope per export"
}

/// Throughput, latency and errors of one phase (one protocol, one exporter count).
struct PhaseSummary: Codable, Sendable {
    var protocolName: String
    var exporters: Int
    var batchSize: Int
    var exports: Int
    var spansAcknowledged: Int
    var spansRejected: Int
    var errors: Int
    var errorKinds: [String: Int]
    var warmupErrors: Int
    var warmupSpansAcknowledged: Int
    var elapsedSeconds: Double
    var spansPerSecond: Double
    var exportsPerSecond: Double
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var maxMs: Double
    var meanMs: Double
    var meanRequestBytes: Int
    var meanWireBytes: Int
    /// Mean time the exporter spent building a batch (ids, timestamps, attributes), not in latency.
    var meanBuildMs: Double
    var cpu: CPUUse?
    /// CPU per acknowledged span (µs): llmlab-server, and PostgreSQL (postmaster + backends).
    var serverMicrosPerSpan: Double?
    var postgresMicrosPerSpan: Double?
    var serverRSSKiBAfter: Int?

    init(proto: ExportProtocol, exporters: Int, batchSize: Int, elapsedSeconds: Double,
         results: [(warmup: ExporterResult, measured: ExporterResult)], cpu: CPUUse?) {
        protocolName = proto.rawValue
        self.exporters = exporters
        self.batchSize = batchSize
        let measured = results.map(\.measured)
        let sorted = measured.flatMap(\.latenciesMs).sorted()
        exports = measured.reduce(0) { $0 + $1.exports }
        spansAcknowledged = measured.reduce(0) { $0 + $1.spansAcknowledged }
        spansRejected = measured.reduce(0) { $0 + $1.spansRejected }
        var kinds: [String: Int] = [:]
        for result in measured { kinds.merge(result.errors, uniquingKeysWith: +) }
        for result in results.map(\.warmup) { kinds.merge(result.errors.map { ("warm-up: " + $0.key, $0.value) }, uniquingKeysWith: { $0 + $1 }) }
        errorKinds = kinds
        errors = measured.reduce(0) { $0 + $1.errors.values.reduce(0, +) }
        warmupErrors = results.reduce(0) { $0 + $1.warmup.errors.values.reduce(0, +) }
        warmupSpansAcknowledged = results.reduce(0) { $0 + $1.warmup.spansAcknowledged }
        self.elapsedSeconds = Rounding.round(elapsedSeconds)
        spansPerSecond = Rounding.round(elapsedSeconds > 0 ? Double(spansAcknowledged) / elapsedSeconds : 0)
        exportsPerSecond = Rounding.round(elapsedSeconds > 0 ? Double(sorted.count) / elapsedSeconds : 0)
        p50Ms = Rounding.round(Self.percentile(sorted, 50))
        p90Ms = Rounding.round(Self.percentile(sorted, 90))
        p99Ms = Rounding.round(Self.percentile(sorted, 99))
        maxMs = Rounding.round(sorted.last ?? 0)
        meanMs = Rounding.round(sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count))
        let sent = measured.reduce(0) { $0 + $1.exports }
        meanRequestBytes = sent > 0 ? measured.reduce(0) { $0 + $1.requestBytes } / sent : 0
        meanWireBytes = sent > 0 ? measured.reduce(0) { $0 + $1.wireBytes } / sent : 0
        meanBuildMs = Rounding.round(sent > 0 ? measured.reduce(0) { $0 + $1.buildSeconds } * 1000 / Double(sent) : 0)
        self.cpu = cpu
        if spansAcknowledged > 0 {
            let perSpan = elapsedSeconds * 1e6 / Double(spansAcknowledged)
            serverMicrosPerSpan = cpu?.serverCores.map { Rounding.round($0 * perSpan) }
            postgresMicrosPerSpan = cpu?.postgresCores.map { Rounding.round($0 * perSpan) }
        }
    }

    var hasErrors: Bool { errors > 0 || warmupErrors > 0 || spansRejected > 0 || spansAcknowledged == 0 }

    /// Nearest-rank percentile of an ascending array (0 when empty).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

struct MemoryFigures: Codable, Sendable {
    var serverPid: Int32?
    var serverRSSKiBAfterSetup: Int?
    var serverRSSKiBMaxSampled: Int?
    var serverRSSKiBAtEnd: Int?
    var serverHWMKiBAtEnd: Int?
    var postgresPSSKiBAtEnd: Int?
    var note = "VmRSS/VmHWM from /proc/<pid>/status of llmlab-server, sampled after set-up, after every phase and at the end; the embedded PostgreSQL (postmaster + backends) as the sum of their PSS"
}

/// Everything one run measured plus the context needed to read it later.
struct IngestReport: Codable, Sendable {
    var startedAt: String
    var host: String
    var cores: Int
    var buildConfiguration: String
    var loadAverageAtStart: String
    var loadAverageAtEnd = ""
    var httpAddress: String
    var grpcAddress: String
    var durationSeconds: Double
    var warmupExportsPerExporter: Int
    var workload: Workload
    var connectionModel = "each exporter has its own connection (keep-alive HTTP/1.1, or a GRPCClient with its own TLS HTTP/2 connection) and exports one batch at a time, back to back; it builds the next batch (fresh ids, current timestamps) between exports"
    var method = "spans/s = spans acknowledged (HTTP 200 / gRPC OK, minus partial_success.rejected_spans) during the measured part / its wall time; an export is acknowledged only once its spans are durable (PostgreSQL or spool); latency = from handing the built message to the exporter (serialisation and gzip included) to the acknowledgement; the bench, llmlab-server and PostgreSQL share the machine's cores"
    var phases: [PhaseSummary] = []
    var memory = MemoryFigures()
    var targets: [String: String] = [:]
    var probeSpansAcknowledged = 0
    var totalSpansAcknowledged = 0
    var totalErrors = 0
    var totalRuntimeSeconds: Double = 0

    func table() -> String {
        var lines: [String] = []
        lines.append("llmlab OTLP ingest benchmark — \(startedAt)")
        lines.append("build \(buildConfiguration) · \(cores) cores shared by the exporters, llmlab-server and PostgreSQL · load average at start \(loadAverageAtStart)")
        lines.append("batch: \(workload.batchSize) spans, \(kib(workload.batchProtobufBytes)) protobuf, \(kib(workload.batchGzipBytes)) gzip; mix \(workload.spanMix.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); \(workload.errorSpans) error spans; \(workload.meanAttributesPerLLMSpan.f(1)) attributes per LLM span")
        lines.append("\(durationSeconds.f(1)) s per phase after \(warmupExportsPerExporter) warm-up export(s) per exporter; one connection per exporter, one export at a time")
        lines.append("")
        lines.append("CPU in cores (CPU s / wall s) during the measured part; other = everything else on the machine; µs/span = CPU µs per acknowledged span, server+pg")
        lines.append([p("protocol", 18), p("exp", 3), p("spans/s", 9), p("exports", 7), p("p50 ms", 8), p("p90 ms", 8), p("p99 ms", 8), p("max ms", 8),
                      p("errors", 6), p("server", 6), p("pg", 5), p("bench", 5), p("other", 5), p("µs/span", 9), p("RSS", 9)].joined(separator: " "))
        for phase in phases {
            lines.append([p(phase.protocolName, 18), p("\(phase.exporters)", 3), p(phase.spansPerSecond.f(0), 9), p("\(phase.exports)", 7),
                          p(phase.p50Ms.f(1), 8), p(phase.p90Ms.f(1), 8), p(phase.p99Ms.f(1), 8), p(phase.maxMs.f(1), 8),
                          p("\(phase.errors + phase.warmupErrors)", 6),
                          p(phase.cpu?.serverCores?.f(2) ?? "-", 6), p(phase.cpu?.postgresCores?.f(2) ?? "-", 5),
                          p(phase.cpu?.benchCores.f(2) ?? "-", 5), p(phase.cpu?.otherCores?.f(2) ?? "-", 5),
                          p(phase.serverMicrosPerSpan.map { s in "\(s.f(0))+\(phase.postgresMicrosPerSpan?.f(0) ?? "-")" } ?? "-", 9),
                          p(phase.serverRSSKiBAfter.map(mib) ?? "-", 9)].joined(separator: " "))
        }
        lines.append("")
        lines.append("llmlab-server memory: " + [
            memory.serverRSSKiBAfterSetup.map { "RSS after set-up \(mib($0))" },
            memory.serverRSSKiBMaxSampled.map { "max sampled RSS \(mib($0))" },
            memory.serverRSSKiBAtEnd.map { "RSS at end \(mib($0))" },
            memory.serverHWMKiBAtEnd.map { "peak (VmHWM) \(mib($0))" },
        ].compactMap { $0 }.joined(separator: " · "))
        if let pg = memory.postgresPSSKiBAtEnd {
            lines.append("embedded PostgreSQL (postmaster + backends, sum of PSS): \(mib(pg)) at end")
        }
        lines.append("")
        lines.append("Targets (measured, not asserted):")
        for (key, value) in targets.sorted(by: { $0.key < $1.key }) { lines.append("  \(key): \(value)") }
        let failing = phases.filter(\.hasErrors)
        if !failing.isEmpty {
            lines.append("")
            lines.append(String(repeating: "!", count: 78))
            lines.append("!!! THIS RUN HAD ERRORS: \(totalErrors) failed export(s); the figures above are suspect")
            for phase in failing {
                lines.append("!!! \(phase.protocolName), \(phase.exporters) exporter(s): \(phase.errors) error(s), \(phase.warmupErrors) in warm-up, \(phase.spansRejected) span(s) rejected, \(phase.spansAcknowledged) acknowledged")
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
    private func kib(_ bytes: Int) -> String { "\((Double(bytes) / 1024).f(1)) KiB" }

    /// Writes `ingest-<UTC timestamp>.json` into `directory` and returns its path.
    func write(to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stamp = startedAt.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let path = (directory as NSString).appendingPathComponent("ingest-\(stamp).json")
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
