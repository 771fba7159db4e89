import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `llmlab-bench-proxy fake-upstream`: a minimal fake OpenAI upstream on plain SwiftNIO
/// HTTP/1.1 with keep-alive. `POST …/chat/completions` answers a fixed, realistic
/// `chat.completion` (model gpt-4o-mini, with `usage`) after the think time. It never parses
/// the request body, so it stays far cheaper per request than the proxy it is measured with.
///
/// Think time: `--think-ms` at start; changed at run time with `PUT /_bench/think-ms/<n>`
/// (the load generator does this between phases, so one process serves both think times
/// and the proxy keeps one `--openai-base-url`); a request header `x-bench-think-ms: <n>`
/// overrides it for that request only.
struct FakeUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-upstream",
        abstract: "Serve a fast fake OpenAI Chat Completions upstream (non-streaming) until killed.")

    @Option(help: "Listen host.")
    var host = "127.0.0.1"

    @Option(help: "Listen port (0: the kernel picks one; see --port-file).")
    var port = 0

    @Option(name: .customLong("port-file"), help: ArgumentHelp("Write the bound port to this file once listening.", valueName: "path"))
    var portFile: String?

    @Option(name: .customLong("think-ms"), help: "Initial think time per completion in milliseconds.")
    var thinkMs = 0

    @Option(help: "Event-loop threads.")
    var threads = 1

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard (0...60_000).contains(thinkMs) else { throw ValidationError("--think-ms must be 0…60000") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
    }

    func run() async throws {
        let state = FakeUpstreamState(thinkMs: thinkMs)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
                    try channel.pipeline.syncOperations.addHandler(FakeUpstreamHandler(state: state))
                }
            }
            .bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        if let portFile {
            try "\(bound)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        }
        print("fake-upstream listening on http://\(host):\(bound) (think \(thinkMs) ms, \(threads) thread(s))")
        fflush(nil)  // all streams: progress must show while output is piped
        try await channel.closeFuture.get()
    }
}

/// State shared by every connection: the think time and the prepared response.
final class FakeUpstreamState: Sendable {
    let thinkMs: Atomic<Int>
    let completionBody: ByteBuffer

    init(thinkMs: Int) {
        self.thinkMs = Atomic(thinkMs)
        completionBody = ByteBuffer(string: Self.completionJSON)
    }

    /// A realistic non-streaming answer, shaped like OpenAI's (usage with token details).
    static let completionJSON = """
        {"id":"chatcmpl-bench0123456789abcdefghij","object":"chat.completion","created":1741569952,\
        "model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant",\
        "content":"Hello! How can I help you today? I can answer questions, summarise text or draft an email.",\
        "refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],\
        "usage":{"prompt_tokens":24,"completion_tokens":22,"total_tokens":46,\
        "prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},\
        "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,\
        "accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},\
        "service_tier":"default","system_fingerprint":"fp_bench0001"}
        """
}

/// One connection: reads a request (head, ignored body, end), answers it, keeps the
/// connection open when the client asked for keep-alive.
final class FakeUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: FakeUpstreamState
    private var head: HTTPRequestHead?

    init(state: FakeUpstreamState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            handle(context: context, head: head)
        }
    }

    private func handle(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if head.method == .POST, path.hasSuffix("/chat/completions") {
            var think = state.thinkMs.load(ordering: .relaxed)
            if let value = head.headers.first(name: "x-bench-think-ms"), let ms = Int(value), (0...60_000).contains(ms) {
                think = ms
            }
            if think == 0 {
                respond(context: context, status: .ok, body: state.completionBody, keepAlive: keepAlive)
            } else {
                let body = state.completionBody
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(think))) {
                    guard context.channel.isActive else { return }
                    self.respond(context: context, status: .ok, body: body, keepAlive: keepAlive)
                }
            }
        } else if head.method == .PUT || head.method == .POST, path.hasPrefix("/_bench/think-ms/"),
                  let ms = Int(path.dropFirst("/_bench/think-ms/".count)), (0...60_000).contains(ms) {
            state.thinkMs.store(ms, ordering: .relaxed)
            respond(context: context, status: .ok, body: ByteBuffer(string: "{\"think_ms\":\(ms)}"), keepAlive: keepAlive)
        } else if head.method == .GET, path == "/healthz" {
            respond(context: context, status: .ok, body: ByteBuffer(string: "{\"status\":\"ok\"}"), keepAlive: keepAlive)
        } else {
            let error = #"{"error":{"message":"fake upstream: no route for this method and path","type":"invalid_request_error","param":null,"code":"not_found"}}"#
            respond(context: context, status: .notFound, body: ByteBuffer(string: error), keepAlive: keepAlive)
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: ByteBuffer, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "x-request-id", value: "req_bench")
        headers.add(name: "openai-processing-ms", value: "1")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
