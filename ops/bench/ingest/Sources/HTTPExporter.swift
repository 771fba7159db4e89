import NIOCore
import NIOHTTP1
import NIOPosix

/// A lean OTLP/HTTP exporter connection: one keep-alive HTTP/1.1 connection, one request
/// at a time (like an OTel SDK's exporter thread), no pool, no redirects.
struct HTTPExportConnection: Sendable {
    struct Reply: Sendable {
        var status: UInt
        var body: [UInt8]
    }

    let channel: any Channel
    let handler: NIOLoopBound<ExportResponseHandler>
    let host: String
    let port: Int
    let authorization: String

    static func connect(host: String, port: Int, apiKey: String, group: any EventLoopGroup) async throws -> HTTPExportConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExportResponseHandler())
                }
            }
            .connect(host: host, port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ExportResponseHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return HTTPExportConnection(channel: channel, handler: handler, host: host, port: port, authorization: "Bearer \(apiKey)")
    }

    /// POSTs one export body to /v1/traces and waits for the whole response (bounded by `timeout`).
    func post(_ body: [UInt8], gzip: Bool, timeout: TimeAmount) async throws -> Reply {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "\(host):\(port)")
        headers.add(name: "content-type", value: "application/x-protobuf")
        headers.add(name: "user-agent", value: "llmlab-bench-ingest (OTel-OTLP-Exporter-like)")
        headers.add(name: "authorization", value: authorization)
        headers.add(name: "content-length", value: String(body.count))
        if gzip { headers.add(name: "content-encoding", value: "gzip") }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/traces", headers: headers)
        let promise = channel.eventLoop.makePromise(of: Reply.self)
        let handler = handler
        let channel = channel
        channel.eventLoop.execute {
            handler.value.send(head: head, body: ByteBuffer(bytes: body), timeout: timeout, promise: promise)
        }
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }
}

struct HTTPExportError: Error, CustomStringConvertible {
    var description: String
}

/// Writes a request and completes its promise with the response's status and body.
final class ExportResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var promise: EventLoopPromise<HTTPExportConnection.Reply>?
    private var status: UInt = 0
    private var body: [UInt8] = []
    private var timer: Scheduled<Void>?
    private var closed = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(head: HTTPRequestHead, body: ByteBuffer, timeout: TimeAmount, promise: EventLoopPromise<HTTPExportConnection.Reply>) {
        guard let context, !closed, self.promise == nil else {
            promise.fail(HTTPExportError(description: closed ? "connection closed" : "request already in flight"))
            return
        }
        self.promise = promise
        status = 0
        self.body = []
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.fail(HTTPExportError(description: "timed out: no response within \(timeout.nanoseconds / 1_000_000_000) s"))
            self.context?.close(promise: nil)
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func fail(_ error: any Error) {
        timer?.cancel()
        timer = nil
        guard let promise else { return }
        self.promise = nil
        promise.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = response.status.code
        case .body(let chunk):
            if body.count < 4096 { body += chunk.readableBytesView.prefix(4096 - body.count) }
        case .end:
            timer?.cancel()
            timer = nil
            guard let promise else { return }
            self.promise = nil
            promise.succeed(.init(status: status, body: body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        fail(HTTPExportError(description: "connection closed with an export in flight"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(HTTPExportError(description: "connection error: \(error)"))
        context.close(promise: nil)
    }
}
