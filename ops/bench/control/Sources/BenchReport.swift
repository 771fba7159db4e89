import Foundation

/// Everything one run measured plus the context needed to read it later (machine, build,
/// load average at the start): printed as a table and written as JSON.
struct BenchReport: Codable, Sendable {
    var startedAt: String
    var host: String
    var cores: Int
    var buildConfiguration: String
    var server: String
    var durationSeconds: Double
    var warmupCallsPerClient: Int
    var loadAverageAtStart: String
    var connectionModel: String
    var projectsPerListResponse: Int
    var login: [PhaseSummary] = []
    var listProjects: [PhaseSummary] = []
    var setupSeconds: Double = 0
    var totalRuntimeSeconds: Double = 0

    /// The human-readable table.
    func table() -> String {
        var lines: [String] = []
        lines.append("llmlab control-plane benchmark — \(startedAt)")
        lines.append("server \(server) over TLS · build \(buildConfiguration) · \(cores) cores · load average at start \(loadAverageAtStart)")
        lines.append("\(durationSeconds.formatted1) s per phase after \(warmupCallsPerClient) warm-up call(s) per client; \(connectionModel)")
        lines.append("")
        lines.append("Login (argon2id m=19 MiB t=2 p=1; the server hashes at most 2 passwords at a time)")
        lines.append(Self.header(unit: "logins/s"))
        lines += login.map(Self.row)
        lines.append("")
        lines.append("ListProjects (session token, \(projectsPerListResponse) projects per response)")
        lines.append(Self.header(unit: "RPCs/s"))
        lines += listProjects.map(Self.row)
        for phase in login + listProjects where phase.errors > 0 || phase.abortedWorkers > 0 {
            lines.append("")
            lines.append("\(phase.name) at \(phase.concurrency) client(s): \(phase.errors) error(s), \(phase.abortedWorkers) worker(s) gave up")
            for (kind, count) in phase.errorKinds.sorted(by: { $0.value > $1.value }) {
                lines.append("  \(count)× \(kind)")
            }
        }
        lines.append("")
        lines.append("set-up \(setupSeconds.formatted1) s · total runtime \(totalRuntimeSeconds.formatted1) s")
        return lines.joined(separator: "\n")
    }

    private static func header(unit: String) -> String {
        [pad("clients", 7), pad("calls", 8), pad("errors", 6), pad(unit, 10),
         pad("p50 ms", 9), pad("p90 ms", 9), pad("p99 ms", 9), pad("max ms", 9)].joined(separator: "  ")
    }

    private static func row(_ phase: PhaseSummary) -> String {
        [pad("\(phase.concurrency)", 7), pad("\(phase.calls)", 8), pad("\(phase.errors)", 6),
         pad(phase.throughputPerSecond.formatted1, 10), pad(phase.p50Ms.formatted1, 9),
         pad(phase.p90Ms.formatted1, 9), pad(phase.p99Ms.formatted1, 9), pad(phase.maxMs.formatted1, 9)]
            .joined(separator: "  ")
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Writes `control-<UTC timestamp>.json` into `directory` and returns its path.
    func write(to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stamp = startedAt.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let path = (directory as NSString).appendingPathComponent("control-\(stamp).json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `/proc/loadavg`'s first three fields, or "n/a" off Linux.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "n/a" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

extension Double {
    fileprivate var formatted1: String { String(format: "%.1f", self) }
}
