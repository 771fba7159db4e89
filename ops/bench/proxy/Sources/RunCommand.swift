import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import LLMLabBenchSupport

/// `llmlab-bench-proxy run`: the load generator. For every think time and client count it
/// measures DIRECT (client → fake upstream) and then PROXY (client → llmlab-server → the
/// same fake upstream) with the same closed-loop clients, and reports the added latency
/// (proxy − direct) at p50 and p99; then the maximum non-streaming RPS through the proxy;
/// then the server's RSS. Every response must be 200; anything else is counted and reported.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure the latency the proxy adds and its maximum non-streaming RPS.",
        discussion: """
            Needs a running llmlab-server whose --openai-base-url points at a running `fake-upstream` \
            (http://<upstream-address>/v1) and an API key (llk_…, scope proxy, project with an OpenAI key). \
            The think time is switched between phases with the fake's PUT /_bench/think-ms/<n>.
            """)

    @Option(name: .customLong("proxy-address"), help: ArgumentHelp("llmlab-server HTTP address (--http-address).", valueName: "host:port"))
    var proxyAddress: String

    @Option(name: .customLong("upstream-address"), help: ArgumentHelp("The fake upstream's address.", valueName: "host:port"))
    var upstreamAddress: String

    @Option(name: .customLong("api-key-file"), help: ArgumentHelp("File holding the proxy API key (llk_…).", valueName: "path"))
    var apiKeyFile: String

    @Option(help: "Model requested (must be priced and allowed for the project).")
    var model = "gpt-4o-mini"

    @Option(help: "Seconds each measured latency phase runs.")
    var duration: Double = 10

    @Option(name: .customLong("rps-duration"), help: "Seconds each max-RPS phase runs (default: --duration).")
    var rpsDuration: Double?

    @Option(help: "Unmeasured requests each connection makes before a phase.")
    var warmup = 20

    @Option(help: ArgumentHelp("Comma-separated client counts for the latency phases.", valueName: "list"))
    var concurrency = "1,16,64"

    @Option(name: .customLong("think-ms"), help: ArgumentHelp("Comma-separated upstream think times (ms) for the latency phases.", valueName: "list"))
    var thinkMs = "0,20"

    @Option(name: .customLong("rps-concurrency"), help: ArgumentHelp("Comma-separated client counts for the max-RPS phases (empty: skip).", valueName: "list"))
    var rpsConcurrency = "32,64,128"

    @Option(name: .customLong("server-pid"), help: "llmlab-server's pid, for RSS and CPU (Linux /proc).")
    var serverPid: Int32?

    @Option(name: .customLong("postgres-pid"), help: "The embedded PostgreSQL postmaster's pid, for its CPU and RSS.")
    var postgresPid: Int32?

    @Option(name: .customLong("upstream-pid"), help: "The fake upstream's pid, for its CPU.")
    var upstreamPid: Int32?

    @Option(name: .customLong("client-threads"), help: "Event-loop threads of the load generator (default: cores).")
    var clientThreads: Int?

    @Option(name: .customLong("results-dir"), help: ArgumentHelp("Where to write proxy-<timestamp>.json.", valueName: "dir"))
    var resultsDir = "ops/bench/results"

    @Option(name: .customLong("build-config"), help: "Label recorded with the figures: how the server was built (release or debug).")
    var buildConfig = "unknown"

    func validate() throws {
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be more than 0 and at most 600 seconds") }
        if let rpsDuration { guard rpsDuration > 0, rpsDuration <= 600 else { throw ValidationError("--rps-duration must be more than 0 and at most 600 seconds") } }
        guard (0...10_000).contains(warmup) else { throw ValidationError("--warmup must be 0…10000") }
        _ = try Self.list(concurrency, "--concurrency", 1...1024, allowEmpty: false)
        _ = try Self.list(thinkMs, "--think-ms", 0...60_000, allowEmpty: false)
        _ = try Self.list(rpsConcurrency, "--rps-concurrency", 1...1024, allowEmpty: true)
        _ = try Self.address(proxyAddress, "--proxy-address")
        _ = try Self.address(upstreamAddress, "--upstream-address")
        if let clientThreads { guard (1...64).contains(clientThreads) else { throw ValidationError("--client-threads must be 1…64") } }
    }

    static func list(_ text: String, _ name: String, _ range: ClosedRange<Int>, allowEmpty: Bool) throws -> [Int] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let values = parts.compactMap { Int($0) }.filter { range.contains($0) }
        guard values.count == parts.count, allowEmpty || !values.isEmpty else {
            throw ValidationError("\(name) takes comma-separated integers in \(range.lowerBound)…\(range.upperBound), e.g. 1,16,64")
        }
        return values
    }

    static func address(_ text: String, _ name: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
              colon != text.startIndex else {
            throw ValidationError("\(name) must be host:port (got \(text))")
        }
        return (String(text[..<colon]), port)
    }

    func run() async throws {
        let clock = ContinuousClock()
        let began = clock.now
        guard let keyText = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
            throw BenchError("cannot read the API key from \(apiKeyFile)")
        }
        let apiKey = keyText.trimmingCharacters(in: .whitespacesAndNewlines)
        let proxy = try Self.address(proxyAddress, "--proxy-address")
        let upstream = try Self.address(upstreamAddress, "--upstream-address")
        let levels = try Self.list(concurrency, "--concurrency", 1...1024, allowEmpty: false)
        let thinks = try Self.list(thinkMs, "--think-ms", 0...60_000, allowEmpty: false)
        let rpsLevels = try Self.list(rpsConcurrency, "--rps-concurrency", 1...1024, allowEmpty: true)
        let threads = clientThreads ?? System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)

        let body = #"{"model":"\#(model)","messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Say hello and offer help in one short sentence."}],"temperature":0.2,"max_tokens":64}"#
        let path = "/v1/chat/completions"
        let direct = LoadTarget(label: "direct", host: upstream.host, port: upstream.port, path: path,
                                authorization: "Bearer sk-bench-direct", body: body)
        let proxied = LoadTarget(label: "proxy", host: proxy.host, port: proxy.port, path: path,
                                 authorization: "Bearer \(apiKey)", body: body)

        var report = ProxyReport(
            startedAt: ProxyReport.timestamp(), host: ProcessInfo.processInfo.hostName,
            cores: ProcessInfo.processInfo.activeProcessorCount, buildConfiguration: buildConfig,
            loadAverageAtStart: ProxyReport.loadAverage(), proxyAddress: proxyAddress, upstreamAddress: upstreamAddress,
            request: "non-streaming POST \(path), model \(model), \(body.utf8.count)-byte body; fake upstream answers \(FakeUpstreamState.completionJSON.utf8.count) bytes",
            durationSeconds: duration, rpsDurationSeconds: rpsDuration ?? duration,
            warmupRequestsPerConnection: warmup, clientEventLoopThreads: threads)
        report.memory.serverPid = serverPid

        // One proxied request first: a wrong key or an unreachable upstream fails fast and clearly.
        try await setThink(0, upstream: upstream, group: group)
        let probe = try await LoadPhase.single(target: proxied, group: group)
        if probe.okResponses != 1 {
            throw BenchError("the first proxied request failed: \(probe.errors.keys.joined(separator: "; "))")
        }
        var maxRSS = 0
        func sampleMemory() -> Int? {
            guard let serverPid, let memory = ProcessStats.memory(pid: serverPid) else { return nil }
            maxRSS = max(maxRSS, memory.rssKiB)
            return memory.rssKiB
        }
        report.memory.serverRSSKiBAfterSetup = sampleMemory()

        func measure(_ target: LoadTarget, think: Int, clients: Int, seconds: Double) async throws -> PhaseSummary {
            let (server, postgres, upstream) = (serverPid, postgresPid, upstreamPid)
            let outcome = try await LoadPhase.run(
                target: target, clients: clients, duration: .milliseconds(Int64(seconds * 1000)), warmup: warmup, group: group,
                cpuSample: { ProcessStats.sample(server: server, postgres: postgres, upstream: upstream) })
            _ = sampleMemory()
            let summary = PhaseSummary(target: target.label, thinkMs: think, concurrency: clients, outcome: outcome)
            let errors = summary.errors + summary.warmupErrors
            print("  \(target.label.padding(toLength: 6, withPad: " ", startingAt: 0)) think \(think) ms, \(clients) client(s): \(summary.requests) ok, \(summary.requestsPerSecond.f(0)) rps, p50 \(summary.p50Ms.f(3)) ms, p99 \(summary.p99Ms.f(3)) ms\(errors > 0 ? ", \(errors) ERROR(S)" : "")")
            fflush(nil)  // all streams: progress must show while output is piped
            return summary
        }

        for think in thinks {
            try await setThink(think, upstream: upstream, group: group)
            for clients in levels {
                print("latency: think \(think) ms, \(clients) client(s), \(duration.f(1)) s each, direct then proxy…")
                let d = try await measure(direct, think: think, clients: clients, seconds: duration)
                let p = try await measure(proxied, think: think, clients: clients, seconds: duration)
                report.latency.append(LatencyComparison(direct: d, proxy: p))
            }
        }

        if !rpsLevels.isEmpty {
            try await setThink(0, upstream: upstream, group: group)
            for clients in rpsLevels {
                print("max RPS: proxy, think 0 ms, \(clients) client(s), \((rpsDuration ?? duration).f(1)) s…")
                report.maxRPS.append(try await measure(proxied, think: 0, clients: clients, seconds: rpsDuration ?? duration))
            }
            if let best = report.maxRPS.filter({ !$0.hasErrors }).max(by: { $0.requestsPerSecond < $1.requestsPerSecond })
                ?? report.maxRPS.max(by: { $0.requestsPerSecond < $1.requestsPerSecond }) {
                report.bestRPS = best.requestsPerSecond
                report.bestRPSConcurrency = best.concurrency
            }
        }

        if let serverPid, let memory = ProcessStats.memory(pid: serverPid) {
            maxRSS = max(maxRSS, memory.rssKiB)
            report.memory.serverRSSKiBAtEnd = memory.rssKiB
            report.memory.serverHWMKiBAtEnd = memory.hwmKiB
            report.memory.serverRSSKiBMaxSampled = maxRSS
        }
        if let postgresPid { report.memory.postgresPSSKiBAtEnd = ProcessStats.clusterPSSKiB(postmaster: postgresPid) }

        for row in report.latency where row.concurrency == 16 {
            report.targets["added p99 at 16 clients, think \(row.thinkMs) ms"] =
                "\(row.addedP99Ms.f(3)) ms (target ≤ 0.5 ms: \(row.addedP99Ms <= 0.5 ? "met" : "NOT met"))"
        }
        if !report.maxRPS.isEmpty {
            report.targets["max non-streaming RPS"] =
                "\(report.bestRPS.f(0)) at \(report.bestRPSConcurrency) clients (target ≥ 5000: \(report.bestRPS >= 5000 ? "met" : "NOT met"))"
        }
        if buildConfig != "release" {
            report.targets["note"] = "build \(buildConfig): not representative, only release figures count"
        }
        report.totalErrors = report.allPhases.reduce(0) { $0 + $1.errors + $1.warmupErrors }
        report.totalRuntimeSeconds = PhaseSummary.round(LoadPhase.seconds(clock.now - began))
        report.loadAverageAtEnd = ProxyReport.loadAverage()
        try? await group.shutdownGracefully()

        print("")
        print(report.table())
        let file = try report.write(to: resultsDir)
        print("results written to \(file)")
        if report.allPhases.contains(where: \.hasErrors) {
            throw BenchError("THE RUN HAD ERRORS (\(report.totalErrors) failed request(s)); see the table above")
        }
    }

    private func setThink(_ ms: Int, upstream: (host: String, port: Int), group: any EventLoopGroup) async throws {
        let control = LoadTarget(label: "control", host: upstream.host, port: upstream.port, method: .PUT,
                                 path: "/_bench/think-ms/\(ms)", authorization: nil, body: "")
        let result = try await LoadPhase.single(target: control, group: group)
        guard result.okResponses == 1 else {
            throw BenchError("could not set the fake upstream's think time to \(ms) ms: \(result.errors.keys.joined(separator: "; "))")
        }
    }
}
