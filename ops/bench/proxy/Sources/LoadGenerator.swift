import NIOCore
import NIOHTTP1
import NIOPosix
import LLMLabBenchSupport

/// Where the load goes: host, port and the exact request every client sends.
struct LoadTarget: Sendable {
    var label: String
    var host: String
    var port: Int
    var method: HTTPMethod = .POST
    var path: String
    var authorization: String?
    var body: String

    func requestHead() -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "\(host):\(port)")
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: "application/json")
        headers.add(name: "user-agent", value: "llmlab-bench-proxy")
        headers.add(name: "content-length", value: String(body.utf8.count))
        if let authorization { headers.add(name: "authorization", value: authorization) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
    }
}

/// What one connection's loop produced.
struct LoopResult: Sendable {
    var latenciesMs: [Double] = []
    var okResponses = 0
    var errors: [String: Int] = [:]
    var connectionLost = false

    mutating func count(_ error: String) {
        // Bound the distinct keys: an error body that varies per request must not explode the map.
        if errors[error] != nil || errors.count < 12 {
            errors[error, default: 0] += 1
        } else {
            errors["(other errors)", default: 0] += 1
        }
    }
}

/// One keep-alive HTTP/1.1 connection driven entirely on its event loop: a closed loop that
/// sends the next request as soon as the previous response has ended, so the load
/// generator adds no task hops or pool bookkeeping to what it measures. Latency is
/// `ContinuousClock` from just before the request is written to the response's end.
final class ClosedLoopHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private struct Run {
        var remaining: Int?
        var deadline: ContinuousClock.Instant?
        var record: Bool
        var promise: EventLoopPromise<LoopResult>
        var generation: Int
    }

    private let head: HTTPRequestHead
    private let body: ByteBuffer
    private let clock = ContinuousClock()
    private var context: ChannelHandlerContext?
    private var run: Run?
    private var result = LoopResult()
    private var generation = 0
    private var inFlight = false
    private var sentAt: ContinuousClock.Instant
    private var status: UInt = 0
    private var errorBody = ""
    private var responseBytes = 0
    private var closed = false

    init(target: LoadTarget) {
        head = target.requestHead()
        body = ByteBuffer(string: target.body)
        sentAt = clock.now
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends `count` requests back to back (or until `deadline`), then completes `promise`.
    /// `timeout`: the loop is abandoned (counted as an error, connection closed) if it has
    /// not finished by then — a stuck server must not hang the benchmark.
    func start(count: Int?, deadline: ContinuousClock.Instant?, record: Bool, timeout: TimeAmount,
               promise: EventLoopPromise<LoopResult>) {
        guard let context, !closed else {
            var lost = LoopResult()
            lost.count("connection closed before the phase started")
            lost.connectionLost = true
            promise.succeed(lost)
            return
        }
        generation += 1
        let generation = generation
        result = LoopResult()
        if record { result.latenciesMs.reserveCapacity(16_384) }
        run = Run(remaining: count, deadline: deadline, record: record, promise: promise, generation: generation)
        context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard let run = self.run, run.generation == generation else { return }
            self.result.count("timed out: no response within \(timeout.nanoseconds / 1_000_000_000) s")
            self.finish()
            self.context?.close(promise: nil)
        }
        sendNext()
    }

    private func sendNext() {
        guard let context, let run else { return }
        if let remaining = run.remaining, remaining <= 0 { return finish() }
        if let deadline = run.deadline, clock.now >= deadline { return finish() }
        inFlight = true
        status = 0
        responseBytes = 0
        errorBody = ""
        sentAt = clock.now
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func finish() {
        guard let run else { return }
        self.run = nil
        let done = result
        result = LoopResult()
        run.promise.succeed(done)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = response.status.code
        case .body(var chunk):
            responseBytes += chunk.readableBytes
            if status != 200, errorBody.utf8.count < 200 {
                errorBody += chunk.readString(length: min(chunk.readableBytes, 200)) ?? ""
            }
        case .end:
            let latency = clock.now - sentAt
            guard inFlight, run != nil else { return }
            inFlight = false
            if status == 200, responseBytes > 0 {
                result.okResponses += 1
                if run!.record { result.latenciesMs.append(Self.milliseconds(latency)) }
            } else if status == 200 {
                result.count("HTTP 200 with an empty body")
            } else {
                let text = errorBody.split(separator: "\n").joined(separator: " ")
                result.count("HTTP \(status)\(text.isEmpty ? "" : ": " + String(text.prefix(200)))")
            }
            if run!.remaining != nil { run!.remaining! -= 1 }
            sendNext()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        if run != nil {
            result.count(inFlight ? "connection closed with a request in flight" : "connection closed")
            result.connectionLost = true
            finish()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if run != nil { result.count("connection error: \(error)") }
        context.close(promise: nil)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

/// A connected client: its channel and a loop-bound reference to its handler.
struct LoadConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<ClosedLoopHandler>

    static func connect(to target: LoadTarget, group: any EventLoopGroup) async throws -> LoadConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ClosedLoopHandler(target: target))
                }
            }
            .connect(host: target.host, port: target.port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ClosedLoopHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return LoadConnection(channel: channel, handler: handler)
    }

    func loop(count: Int?, deadline: ContinuousClock.Instant?, record: Bool, timeout: TimeAmount) async throws -> LoopResult {
        let promise = channel.eventLoop.makePromise(of: LoopResult.self)
        let handler = handler
        channel.eventLoop.execute {
            handler.value.start(count: count, deadline: deadline, record: record, timeout: timeout, promise: promise)
        }
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// Runs one measured phase: `clients` keep-alive connections, each making `warmup`
/// unmeasured requests, then all of them closed-loop for `duration`.
enum LoadPhase {
    struct Outcome: Sendable {
        var latenciesMs: [Double]
        var okResponses: Int
        var errors: [String: Int]
        var warmupErrors: [String: Int]
        var lostConnections: Int
        var elapsedSeconds: Double
        /// CPU of the watched processes over the measured part only (not connecting, not warm-up).
        var cpu: CPUUse?
    }

    /// Seconds a loop may overrun its deadline (or a warm-up may take) before it is abandoned.
    static let overrun: TimeAmount = .seconds(30)

    static func run(target: LoadTarget, clients: Int, duration: Duration, warmup: Int, group: any EventLoopGroup,
                    cpuSample: (@Sendable () -> ProcessStats.CPUSample)? = nil) async throws -> Outcome {
        var connections: [LoadConnection] = []
        connections.reserveCapacity(clients)
        do {
            for _ in 0..<clients {
                connections.append(try await LoadConnection.connect(to: target, group: group))
            }
        } catch {
            // Recorded, not thrown: a server that died mid-run still gets a report that says so.
            for connection in connections { await connection.close() }
            return Outcome(latenciesMs: [], okResponses: 0,
                           errors: ["cannot connect to \(target.host):\(target.port): \(error)": clients - connections.count],
                           warmupErrors: [:], lostConnections: clients, elapsedSeconds: 0)
        }

        var warmupErrors: [String: Int] = [:]
        var lost = 0
        if warmup > 0 {
            let results = try await all(connections) { try await $0.loop(count: warmup, deadline: nil, record: false, timeout: overrun) }
            for result in results {
                warmupErrors.merge(result.errors, uniquingKeysWith: +)
                if result.connectionLost { lost += 1 }
            }
        }

        let cpuBefore = cpuSample?()
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let timeout = TimeAmount.nanoseconds(Int64(LoadPhase.seconds(duration) * 1e9)) + overrun
        let results = try await all(connections) { try await $0.loop(count: nil, deadline: deadline, record: true, timeout: timeout) }
        let elapsed = clock.now - start
        let cpuAfter = cpuSample?()
        for connection in connections { await connection.close() }

        var outcome = Outcome(latenciesMs: [], okResponses: 0, errors: [:], warmupErrors: warmupErrors,
                              lostConnections: lost, elapsedSeconds: seconds(elapsed))
        if let cpuBefore, let cpuAfter {
            outcome.cpu = CPUUse(from: cpuBefore, to: cpuAfter, wallSeconds: seconds(elapsed))
        }
        outcome.latenciesMs.reserveCapacity(results.reduce(0) { $0 + $1.latenciesMs.count })
        for result in results {
            outcome.latenciesMs += result.latenciesMs
            outcome.okResponses += result.okResponses
            outcome.errors.merge(result.errors, uniquingKeysWith: +)
            if result.connectionLost { outcome.lostConnections += 1 }
        }
        return outcome
    }

    /// One request on a fresh connection (control calls such as setting the think time).
    static func single(target: LoadTarget, group: any EventLoopGroup) async throws -> LoopResult {
        let connection = try await LoadConnection.connect(to: target, group: group)
        do {
            let result = try await connection.loop(count: 1, deadline: nil, record: true, timeout: .seconds(10))
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func all(_ connections: [LoadConnection],
                            _ body: @escaping @Sendable (LoadConnection) async throws -> LoopResult) async throws -> [LoopResult] {
        try await withThrowingTaskGroup(of: LoopResult.self) { group in
            for connection in connections { group.addTask { try await body(connection) } }
            var results: [LoopResult] = []
            results.reserveCapacity(connections.count)
            for try await result in group { results.append(result) }
            return results
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
