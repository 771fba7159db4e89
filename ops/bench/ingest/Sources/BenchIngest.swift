import ArgumentParser
import Foundation
import LLMLabProto
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix
import Synchronization
import SwiftProtobuf
import LLMLabBenchSupport

/// `llmlab-bench-ingest`: OTLP trace ingest benchmark. N concurrent exporters send batches
/// of realistic GenAI spans over OTLP/HTTP (protobuf, protobuf+gzip) and OTLP/gRPC (TLS)
/// for a fixed time each; reports sustained acknowledged spans/s, export latency, errors,
/// and the CPU/RSS of llmlab-server and its PostgreSQL. An export is acknowledged only once
/// its spans are durable, so acknowledged spans/s is the ingest rate into storage.
/// `ops/bench/ingest.sh` (`make bench-ingest`) runs it around a throw-away server.
@main
struct BenchIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmlab-bench-ingest",
        abstract: "OTLP ingest benchmark: sustained spans/s and export latency over HTTP and gRPC.",
        discussion: """
            Needs a running llmlab-server and an API key (llk_…) with the `ingest` scope. \
            Figures are measured, not asserted.
            """)

    @Option(name: .customLong("http-address"), help: ArgumentHelp("llmlab-server HTTP address (--http-address).", valueName: "host:port"))
    var httpAddress: String

    @Option(name: .customLong("grpc-address"), help: ArgumentHelp("llmlab-server gRPC address (--grpc-address).", valueName: "host:port"))
    var grpcAddress: String

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("CA that signed the gRPC listener's certificate.", valueName: "path"))
    var caFile: String

    @Option(name: .customLong("api-key-file"), help: ArgumentHelp("File holding the ingest API key (llk_…).", valueName: "path"))
    var apiKeyFile: String

    @Option(help: "Seconds each measured phase runs.")
    var duration: Double = 10

    @Option(help: ArgumentHelp("Comma-separated concurrent exporter counts.", valueName: "list"))
    var exporters = "1,4,8"

    @Option(help: ArgumentHelp("Comma-separated protocols: http, http-gzip, grpc.", valueName: "list"))
    var protocols = "http,http-gzip,grpc"

    @Option(name: .customLong("batch-size"), help: "Spans per export (the OTel BatchSpanProcessor's max_export_batch_size default).")
    var batchSize = 512

    @Option(help: "Unmeasured exports each exporter makes before a phase (connects, TLS handshake, caches).")
    var warmup = 2

    @Option(help: "Seconds an export may take before it counts as failed.")
    var timeout: Double = 30

    @Option(name: .customLong("server-pid"), help: "llmlab-server's pid, for RSS and CPU (Linux /proc).")
    var serverPid: Int32?

    @Option(name: .customLong("postgres-pid"), help: "The embedded PostgreSQL postmaster's pid, for its CPU and memory.")
    var postgresPid: Int32?

    @Option(name: .customLong("client-threads"), help: "Event-loop threads of the HTTP exporters (default: cores).")
    var clientThreads: Int?

    @Option(name: .customLong("results-dir"), help: ArgumentHelp("Where to write ingest-<timestamp>.json.", valueName: "dir"))
    var resultsDir = "ops/bench/results"

    @Option(name: .customLong("result-path-file"), help: ArgumentHelp("Also write the JSON result's path into this file (for scripts).", valueName: "path"))
    var resultPathFile: String?

    @Option(name: .customLong("build-config"), help: "Label recorded with the figures: how the server was built (release or debug).")
    var buildConfig = "unknown"

    func validate() throws {
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be more than 0 and at most 600 seconds") }
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1…100000") }
        guard (0...1000).contains(warmup) else { throw ValidationError("--warmup must be 0…1000") }
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be more than 0 and at most 600 seconds") }
        _ = try Self.counts(exporters)
        _ = try Self.protocolList(protocols)
        _ = try Phase.hostPort(httpAddress, "--http-address")
        _ = try Phase.grpcTarget(grpcAddress)
        if let clientThreads { guard (1...64).contains(clientThreads) else { throw ValidationError("--client-threads must be 1…64") } }
    }

    static func counts(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let values = parts.compactMap { Int($0) }.filter { (1...256).contains($0) }
        guard values.count == parts.count, !values.isEmpty else {
            throw ValidationError("--exporters takes comma-separated integers in 1…256, e.g. 1,4,8")
        }
        return values
    }

    static func protocolList(_ text: String) throws -> [ExportProtocol] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        let values = parts.compactMap { ExportProtocol(rawValue: $0) }
        guard values.count == parts.count, !values.isEmpty else {
            throw ValidationError("--protocols takes a comma-separated list of http, http-gzip, grpc")
        }
        return values
    }

    func run() async throws {
        let clock = ContinuousClock()
        let began = clock.now
        guard let keyText = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
            throw BenchError("cannot read the API key from \(apiKeyFile)")
        }
        let http = try Phase.hostPort(httpAddress, "--http-address")
        let settings = ExportSettings(
            httpHost: http.host, httpPort: http.port, grpcAddress: grpcAddress, caFile: caFile,
            apiKey: keyText.trimmingCharacters(in: .whitespacesAndNewlines), batchSize: batchSize,
            timeout: .milliseconds(Int64(timeout * 1000)))
        let levels = try Self.counts(exporters)
        let protos = try Self.protocolList(protocols)
        let threads = clientThreads ?? System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)

        // What a batch looks like (one sample, same generator): sizes for the report.
        var sampleFactory = SpanFactory(seed: 1, service: "bench-agent-sample")
        let sample = sampleFactory.request(spans: batchSize)
        let sampleBytes: [UInt8] = try sample.serializedBytes()
        let sampleSpans = sample.resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans)
        let chat = sampleSpans.filter { $0.name.hasPrefix("chat ") }
        let workload = Workload(
            batchSize: batchSize,
            batchProtobufBytes: sampleBytes.count,
            batchGzipBytes: Gzip.compress(sampleBytes).count,
            meanAttributesPerLLMSpan: Rounding.round(Double(chat.reduce(0) { $0 + $1.attributes.count }) / Double(max(chat.count, 1))),
            spanMix: Dictionary(grouping: sampleSpans, by: { String($0.name.split(separator: " ").first ?? "") }).mapValues(\.count),
            errorSpans: sampleSpans.filter { $0.status.code == .error }.count)

        var report = IngestReport(
            startedAt: IngestReport.timestamp(), host: ProcessInfo.processInfo.hostName,
            cores: ProcessInfo.processInfo.activeProcessorCount, buildConfiguration: buildConfig,
            loadAverageAtStart: IngestReport.loadAverage(), httpAddress: httpAddress, grpcAddress: grpcAddress,
            durationSeconds: duration, warmupExportsPerExporter: warmup, workload: workload)
        report.memory.serverPid = serverPid

        // One export first: a wrong key or a server that cannot store fails fast and clearly.
        let probe = try await Phase.run(.http, exporters: 1, duration: .milliseconds(1), warmup: 1, settings: settings,
                                        group: group, serverPid: nil, postgresPid: nil)
        if probe.warmupErrors > 0 || probe.errors > 0 {
            throw BenchError("the first export failed: \(probe.errorKinds.keys.joined(separator: "; "))")
        }
        var maxRSS = 0
        func sampleMemory() -> Int? {
            guard let serverPid, let memory = ProcessStats.memory(pid: serverPid) else { return nil }
            maxRSS = max(maxRSS, memory.rssKiB)
            return memory.rssKiB
        }
        report.memory.serverRSSKiBAfterSetup = sampleMemory()
        report.probeSpansAcknowledged = probe.warmupSpansAcknowledged + probe.spansAcknowledged

        for proto in protos {
            for count in levels {
                print("\(proto.label): \(count) exporter(s), \(batchSize) spans per export, \(duration.f(1)) s…")
                fflush(nil)
                var summary = try await Phase.run(proto, exporters: count, duration: .milliseconds(Int64(duration * 1000)),
                                                  warmup: warmup, settings: settings, group: group,
                                                  serverPid: serverPid, postgresPid: postgresPid)
                summary.serverRSSKiBAfter = sampleMemory()
                let errors = summary.errors + summary.warmupErrors
                print("  \(summary.spansAcknowledged) spans acknowledged, \(summary.spansPerSecond.f(0)) spans/s, export p50 \(summary.p50Ms.f(1)) ms, p99 \(summary.p99Ms.f(1)) ms, server \(summary.cpu?.serverCores?.f(2) ?? "-") cores, pg \(summary.cpu?.postgresCores?.f(2) ?? "-") cores\(errors > 0 ? ", \(errors) ERROR(S)" : "")")
                fflush(nil)
                report.phases.append(summary)
            }
        }

        if let serverPid, let memory = ProcessStats.memory(pid: serverPid) {
            maxRSS = max(maxRSS, memory.rssKiB)
            report.memory.serverRSSKiBAtEnd = memory.rssKiB
            report.memory.serverHWMKiBAtEnd = memory.hwmKiB
            report.memory.serverRSSKiBMaxSampled = maxRSS
        }
        if let postgresPid { report.memory.postgresPSSKiBAtEnd = ProcessStats.clusterPSSKiB(postmaster: postgresPid) }

        for proto in protos {
            let phases = report.phases.filter { $0.protocolName == proto.rawValue }
            if let best = phases.filter({ !$0.hasErrors }).max(by: { $0.spansPerSecond < $1.spansPerSecond })
                ?? phases.max(by: { $0.spansPerSecond < $1.spansPerSecond }) {
                report.targets["sustained spans/s, \(proto.label)"] =
                    "\(best.spansPerSecond.f(0)) at \(best.exporters) exporter(s), export p99 \(best.p99Ms.f(1)) ms (target ≥ 20000: \(best.spansPerSecond >= 20_000 ? "met" : "NOT met"))\(best.hasErrors ? " — WITH ERRORS" : "")"
            }
        }
        if buildConfig != "release" {
            report.targets["note"] = "build \(buildConfig): not representative, only release figures count"
        }
        report.totalSpansAcknowledged = report.probeSpansAcknowledged + report.phases.reduce(0) { $0 + $1.warmupSpansAcknowledged + $1.spansAcknowledged }
        report.totalErrors = report.phases.reduce(0) { $0 + $1.errors + $1.warmupErrors }
        report.totalRuntimeSeconds = Rounding.round(Phase.seconds(clock.now - began))
        report.loadAverageAtEnd = IngestReport.loadAverage()
        try? await group.shutdownGracefully()

        print("")
        print(report.table())
        let file = try report.write(to: resultsDir)
        print("results written to \(file)")
        if let resultPathFile { try? (file + "\n").write(toFile: resultPathFile, atomically: true, encoding: .utf8) }
        print("acknowledged spans in total (probe, warm-up and measured): \(report.totalSpansAcknowledged)")
        if report.phases.contains(where: \.hasErrors) {
            throw BenchError("THE RUN HAD ERRORS (\(report.totalErrors) failed export(s)); see the table above")
        }
    }
}

/// One measured phase: `exporters` concurrent exporters of one protocol.
enum Phase {
    static func run(_ proto: ExportProtocol, exporters: Int, duration: Duration, warmup: Int, settings: ExportSettings,
                    group: any EventLoopGroup, serverPid: Int32?, postgresPid: Int32?) async throws -> PhaseSummary {
        let cpuStart = Mutex<ProcessStats.CPUSample?>(nil)
        let barrier = Barrier(parties: exporters) {
            let sample = ProcessStats.sample(server: serverPid, postgres: postgresPid)
            cpuStart.withLock { $0 = sample }
        }
        var seeds = SystemRandomNumberGenerator()
        let results = await withTaskGroup(of: (warmup: ExporterResult, measured: ExporterResult).self) { tasks in
            for _ in 0..<exporters {
                let seed = seeds.next()
                tasks.addTask {
                    switch proto {
                    case .http, .httpGzip:
                        await Exporter.runHTTP(proto, settings: settings, seed: seed, warmup: warmup, barrier: barrier, duration: duration, group: group)
                    case .grpc:
                        await Exporter.runGRPC(settings: settings, seed: seed, warmup: warmup, barrier: barrier, duration: duration)
                    }
                }
            }
            var all: [(warmup: ExporterResult, measured: ExporterResult)] = []
            for await result in tasks { all.append(result) }
            return all
        }
        let end = ContinuousClock.now
        let cpuEnd = ProcessStats.sample(server: serverPid, postgres: postgresPid)
        let start = await barrier.startInstant ?? end
        let elapsed = seconds(end - start)
        var cpu: CPUUse?
        if let before = cpuStart.withLock({ $0 }) { cpu = CPUUse(from: before, to: cpuEnd, wallSeconds: elapsed) }
        return PhaseSummary(proto: proto, exporters: exporters, batchSize: settings.batchSize, elapsedSeconds: elapsed,
                            results: results, cpu: cpu)
    }

    static func hostPort(_ text: String, _ name: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
              colon != text.startIndex else {
            throw ValidationError("\(name) must be host:port (got \(text))")
        }
        return (String(text[..<colon]), port)
    }

    /// IPv4 literals are dialled directly (the certificate's IP SAN is what TLS checks).
    static func grpcTarget(_ text: String) throws -> any ResolvableTarget {
        let (host, port) = try hostPort(text, "--grpc-address")
        if host.hasPrefix("["), host.hasSuffix("]") { return .ipv6(address: String(host.dropFirst().dropLast()), port: port) }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return .ipv4(address: host, port: port) }
        return .dns(host: host, port: port)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    static func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1000 }
}

/// A failure the benchmark reports as a plain message.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
