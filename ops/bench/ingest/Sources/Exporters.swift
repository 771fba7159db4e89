import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabProto
import NIOCore
import NIOPosix
import SwiftProtobuf

/// How a phase exports: OTLP/HTTP protobuf (optionally gzip) or OTLP/gRPC over TLS.
enum ExportProtocol: String, Codable, Sendable, CaseIterable {
    case http = "http"
    case httpGzip = "http-gzip"
    case grpc = "grpc"

    var label: String {
        switch self {
        case .http: "HTTP protobuf"
        case .httpGzip: "HTTP protobuf+gzip"
        case .grpc: "gRPC (TLS)"
        }
    }
}

/// What one exporter's loop produced.
struct ExporterResult: Sendable {
    var latenciesMs: [Double] = []
    var exports = 0
    var spansAcknowledged = 0
    var spansRejected = 0
    var requestBytes = 0
    var wireBytes = 0
    var buildSeconds = 0.0
    var errors: [String: Int] = [:]
    var consecutiveErrors = 0

    mutating func count(_ error: String) {
        consecutiveErrors += 1
        if errors[error] != nil || errors.count < 12 {
            errors[error, default: 0] += 1
        } else {
            errors["(other errors)", default: 0] += 1
        }
    }
}

/// The settings every exporter of a run shares.
struct ExportSettings: Sendable {
    var httpHost: String
    var httpPort: Int
    var grpcAddress: String
    var caFile: String
    var apiKey: String
    var batchSize: Int
    var timeout: Duration

    static let maxConsecutiveErrors = 50
}

/// One exporter: a connection of its own (keep-alive HTTP/1.1, or a GRPCClient with its own
/// TLS HTTP/2 connection) exporting batch after batch, one at a time, like an OTel SDK's
/// BatchSpanProcessor under sustained load. Each batch is built fresh (new ids, current
/// timestamps) before its export; latency runs from handing the built message to the
/// exporter (serialisation, gzip included, as in an SDK's export call) to the acknowledgement.
enum Exporter {
    static func runHTTP(_ proto: ExportProtocol, settings: ExportSettings, seed: UInt64, warmup: Int,
                        barrier: Barrier, duration: Duration, group: any EventLoopGroup) async -> (warmup: ExporterResult, measured: ExporterResult) {
        var factory = SpanFactory(seed: seed, service: "bench-agent-\(seed % 1000)")
        let connection: HTTPExportConnection
        do {
            connection = try await HTTPExportConnection.connect(host: settings.httpHost, port: settings.httpPort, apiKey: settings.apiKey, group: group)
        } catch {
            var failed = ExporterResult()
            failed.count("cannot connect to \(settings.httpHost):\(settings.httpPort): \(error)")
            _ = await barrier.arrive()
            return (failed, ExporterResult())
        }
        let gzip = proto == .httpGzip
        let timeout = TimeAmount.nanoseconds(Int64(Phase.seconds(settings.timeout) * 1e9))
        func loop(count: Int?, until deadline: ContinuousClock.Instant?) async -> ExporterResult {
            var result = ExporterResult()
            let clock = ContinuousClock()
            var done = 0
            while true {
                if let count, done >= count { break }
                if let deadline, clock.now >= deadline { break }
                if result.consecutiveErrors >= ExportSettings.maxConsecutiveErrors { break }
                done += 1
                let buildStart = clock.now
                let request = factory.request(spans: settings.batchSize)
                let sent = clock.now
                result.buildSeconds += Phase.seconds(sent - buildStart)
                do {
                    let raw: [UInt8] = try request.serializedBytes()
                    let body = gzip ? Gzip.compress(raw) : raw
                    let reply = try await connection.post(body, gzip: gzip, timeout: timeout)
                    let latency = clock.now - sent
                    result.exports += 1
                    result.requestBytes += raw.count
                    result.wireBytes += body.count
                    if reply.status == 200 {
                        let response = try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: reply.body)
                        let rejected = Int(response?.partialSuccess.rejectedSpans ?? 0)
                        result.spansRejected += rejected
                        result.spansAcknowledged += settings.batchSize - rejected
                        result.latenciesMs.append(Phase.milliseconds(latency))
                        if rejected > 0 {
                            result.count("partial success: \(rejected) span(s) rejected: \(response?.partialSuccess.errorMessage ?? "")")
                        } else {
                            result.consecutiveErrors = 0
                        }
                    } else {
                        result.count("HTTP \(reply.status): \(Self.statusMessage(reply.body))")
                    }
                } catch {
                    result.count("\(error)")
                    if connection.channel.isActive == false { break }
                }
            }
            return result
        }
        let warm = await loop(count: warmup, until: nil)
        let start = await barrier.arrive()
        let measured = await loop(count: nil, until: start + duration)
        await connection.close()
        return (warm, measured)
    }

    static func runGRPC(settings: ExportSettings, seed: UInt64, warmup: Int,
                        barrier: Barrier, duration: Duration) async -> (warmup: ExporterResult, measured: ExporterResult) {
        var factory = SpanFactory(seed: seed, service: "bench-agent-\(seed % 1000)")
        let client: GRPCClient<HTTP2ClientTransport.Posix>
        do {
            let caFile = settings.caFile
            client = GRPCClient(transport: try HTTP2ClientTransport.Posix(
                target: try Phase.grpcTarget(settings.grpcAddress),
                transportSecurity: .tls { config in
                    config.serverCertificateVerification = .fullVerification
                    config.trustRoots = .certificates([.file(path: caFile, format: .pem)])
                }))
        } catch {
            var failed = ExporterResult()
            failed.count("cannot create the gRPC client: \(error)")
            _ = await barrier.arrive()
            return (failed, ExporterResult())
        }
        var options = CallOptions.defaults
        options.timeout = settings.timeout
        options.waitForReady = false
        let metadata: Metadata = ["authorization": "Bearer \(settings.apiKey)"]
        let service = Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client)
        let batchSize = settings.batchSize
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await client.runConnections() }
            defer { client.beginGracefulShutdown() }
            func loop(count: Int?, until deadline: ContinuousClock.Instant?) async -> ExporterResult {
                var result = ExporterResult()
                let clock = ContinuousClock()
                var done = 0
                while true {
                    if let count, done >= count { break }
                    if let deadline, clock.now >= deadline { break }
                    if result.consecutiveErrors >= ExportSettings.maxConsecutiveErrors { break }
                    done += 1
                    let buildStart = clock.now
                    let request = factory.request(spans: batchSize)
                    let sent = clock.now
                    result.buildSeconds += Phase.seconds(sent - buildStart)
                    do {
                        let response = try await service.export(request, metadata: metadata, options: options)
                        let latency = clock.now - sent
                        result.exports += 1
                        let rejected = Int(response.partialSuccess.rejectedSpans)
                        result.spansRejected += rejected
                        result.spansAcknowledged += batchSize - rejected
                        result.latenciesMs.append(Phase.milliseconds(latency))
                        if rejected > 0 {
                            result.count("partial success: \(rejected) span(s) rejected: \(response.partialSuccess.errorMessage)")
                        } else {
                            result.consecutiveErrors = 0
                        }
                    } catch let error as RPCError {
                        result.exports += 1
                        result.count("gRPC \(error.code): \(error.message)")
                    } catch {
                        result.exports += 1
                        result.count("\(error)")
                    }
                }
                return result
            }
            let warm = await loop(count: warmup, until: nil)
            let start = await barrier.arrive()
            let measured = await loop(count: nil, until: start + duration)
            return (warm, measured)
        }
    }

    /// The `message` of a `google.rpc.Status` protobuf body (field 2), else printable text.
    static func statusMessage(_ body: [UInt8]) -> String {
        if let status = StatusBody.parse(body), !status.message.isEmpty {
            return "code \(status.code): \(status.message)"
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.filter { !$0.isNewline }
    }
}

/// `google.rpc.Status` (code = field 1 varint, message = field 2 bytes), parsed by hand:
/// just enough to show an error reply.
enum StatusBody {
    static func parse(_ bytes: [UInt8]) -> (code: UInt64, message: String)? {
        var index = 0
        var code: UInt64 = 0
        var message: String?
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while index < bytes.count {
            guard let tag = varint() else { return nil }
            switch (tag >> 3, tag & 7) {
            case (_, 0):
                guard let value = varint() else { return nil }
                if tag >> 3 == 1 { code = value }
            case (let field, 2):
                guard let length = varint(), index + Int(length) <= bytes.count else { return nil }
                if field == 2 { message = String(decoding: bytes[index..<(index + Int(length))], as: UTF8.self) }
                index += Int(length)
            default:
                return nil
            }
        }
        return message.map { (code, $0) }
    }
}

/// Lets every exporter finish its warm-up before the measured part starts at the same
/// instant for all; `onRelease` runs once, at that instant (the CPU sample).
actor Barrier {
    private let parties: Int
    private var waiting: [CheckedContinuation<ContinuousClock.Instant, Never>] = []
    private var released: ContinuousClock.Instant?
    private let onRelease: @Sendable () -> Void

    init(parties: Int, onRelease: @escaping @Sendable () -> Void) {
        self.parties = parties
        self.onRelease = onRelease
    }

    func arrive() async -> ContinuousClock.Instant {
        if let released { return released }
        if waiting.count + 1 >= parties {
            onRelease()
            let now = ContinuousClock.now
            released = now
            for continuation in waiting { continuation.resume(returning: now) }
            waiting.removeAll()
            return now
        }
        return await withCheckedContinuation { waiting.append($0) }
    }

    var startInstant: ContinuousClock.Instant? { released }
}
