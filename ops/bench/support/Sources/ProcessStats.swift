import Foundation

/// Memory and CPU of processes, from Linux `/proc` (nil elsewhere or when the process is gone).
public enum ProcessStats {
    /// `VmRSS` and `VmHWM` (peak RSS) of `pid`, in KiB, from `/proc/<pid>/status`.
    public static func memory(pid: Int32) -> (rssKiB: Int, hwmKiB: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var rss: Int?
        var hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kib(line) }
            if line.hasPrefix("VmHWM:") { hwm = kib(line) }
        }
        guard let rss, let hwm else { return nil }
        return (rss, hwm)
    }

    private static func kib(_ line: Substring) -> Int? {
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }

    /// `utime + stime` of `pid` in seconds, plus its parent pid, from `/proc/<pid>/stat`.
    public static func cpu(pid: Int32) -> (seconds: Double, parent: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state(3) ppid(4) … utime(14) stime(15); index 0 here is field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let parent = Int32(fields[1]), let user = Double(fields[11]), let system = Double(fields[12])
        else { return nil }
        return ((user + system) / ticksPerSecond, parent)
    }

    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Every live descendant of `pid` (children, grandchildren, …): a postmaster's backends.
    public static func descendants(of pid: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var children: [Int32: [Int32]] = [:]
        for entry in entries {
            guard let child = Int32(entry), let parent = cpu(pid: child)?.parent else { continue }
            children[parent, default: []].append(child)
        }
        var result: [Int32] = []
        var queue = children[pid] ?? []
        while let next = queue.popLast() {
            result.append(next)
            queue += children[next] ?? []
        }
        return result
    }

    /// CPU seconds used so far by each watched group of processes.
    public struct CPUSample: Sendable {
        public var bench: Double
        public var server: Double?
        public var postgres: Double?
        public var upstream: Double?
        /// Busy CPU seconds of the whole machine (all processes, `/proc/stat`).
        public var machine: Double?
    }

    /// Busy CPU seconds of the whole machine since boot: the `cpu` line of `/proc/stat` minus
    /// idle and iowait.
    public static func machineBusySeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return nil }
        // user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
        let total = values.prefix(8).reduce(0, +)
        return (total - values[3] - values[4]) / ticksPerSecond
    }

    public static func sample(server: Int32?, postgres: Int32?, upstream: Int32? = nil) -> CPUSample {
        let own = cpu(pid: getpid())?.seconds ?? 0
        var sample = CPUSample(bench: own)
        if let server { sample.server = cpu(pid: server)?.seconds }
        if let postgres {
            // Backends that exited during the phase take their CPU time with them: a lower bound.
            sample.postgres = ([postgres] + descendants(of: postgres)).compactMap { cpu(pid: $0)?.seconds }.reduce(0, +)
        }
        if let upstream { sample.upstream = cpu(pid: upstream)?.seconds }
        sample.machine = machineBusySeconds()
        return sample
    }

    /// Sum of PSS (proportional set size: shared pages split between the processes sharing
    /// them) over the postmaster and its backends, KiB — unlike a sum of RSS, this does not
    /// count PostgreSQL's shared buffers once per backend.
    public static func clusterPSSKiB(postmaster pid: Int32) -> Int? {
        guard let own = pss(pid: pid) else { return nil }
        return own + descendants(of: pid).compactMap { pss(pid: $0) }.reduce(0, +)
    }

    /// `Pss` from `/proc/<pid>/smaps_rollup`, KiB.
    public static func pss(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("Pss:") }.flatMap { kib($0) }
    }
}

/// Cores used by each process group during one phase (CPU seconds / wall seconds).
public struct CPUUse: Codable, Sendable {
    public var benchCores: Double
    public var serverCores: Double?
    public var postgresCores: Double?
    public var upstreamCores: Double?
    /// Everything else on the machine (other builds, tests): machine busy − the groups above.
    public var otherCores: Double?

    public init(from start: ProcessStats.CPUSample, to end: ProcessStats.CPUSample, wallSeconds: Double) {
        let wall = max(wallSeconds, 0.001)
        func use(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b else { return nil }
            return Rounding.round(max(b - a, 0) / wall)
        }
        benchCores = Rounding.round(max(end.bench - start.bench, 0) / wall)
        serverCores = use(start.server, end.server)
        postgresCores = use(start.postgres, end.postgres)
        upstreamCores = use(start.upstream, end.upstream)
        if let machine = use(start.machine, end.machine) {
            let ours = benchCores + (serverCores ?? 0) + (postgresCores ?? 0) + (upstreamCores ?? 0)
            otherCores = Rounding.round(max(machine - ours, 0))
        }
    }
}

/// Rounding for reported figures: three decimals (microseconds when the unit is ms).
public enum Rounding {
    public static func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
