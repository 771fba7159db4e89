import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// A billing API on a real loopback socket: answers every request with `handler`'s reply
/// and records what it received, so tests see exactly what a connector sent.
final class FakeBillingServer: Sendable {
    struct Received: Sendable {
        var method: String
        var path: String
        /// Query items in order, percent-decoded.
        var query: [(String, String)]
        var headers: [String: String]
        var body: [UInt8]

        func values(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
        func value(_ name: String) -> String? { values(name).first }
    }

    struct Reply: Sendable {
        var status: Int = 200
        var headers: [String: String] = [:]
        var body: String

        static func json(_ body: String) -> Reply { Reply(body: body) }
    }

    private let received = Mutex<[Received]>([])
    private let handler: @Sendable (Received, _ baseURL: String) -> Reply

    /// `handler` gets each request and the server's own base URL (for `nextLink`s).
    init(_ handler: @escaping @Sendable (Received, _ baseURL: String) -> Reply) {
        self.handler = handler
    }

    var requests: [Received] { received.withLock { $0 } }

    /// Runs `body` with the server listening on `http://127.0.0.1:<port>`.
    func serving<R: Sendable>(_ body: @Sendable (String) async throws -> R) async throws -> R {
        let base = Mutex<String>("")
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let bytes = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            var query: [(String, String)] = []
            for pair in (request.uri.query ?? "").split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                query.append((name, value))
            }
            let item = Received(method: request.method.rawValue, path: request.uri.path, query: query, headers: headers, body: bytes)
            self.received.withLock { $0.append(item) }
            let reply = self.handler(item, base.withLock { $0 })
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            for (name, value) in reply.headers {
                if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
            }
            return Response(status: .init(code: reply.status), headers: fields,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body)))
        }
        var logger = Logger(label: "fake-billing")
        logger.logLevel = .critical
        let (ports, port) = AsyncStream<Int>.makeStream()
        let app = Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            guard let listening = await ports.first(where: { _ in true }) else { throw CancellationError() }
            let url = "http://127.0.0.1:\(listening)"
            base.withLock { $0 = url }
            return try await body(url)
        }
    }
}

/// Records the waits a BillingHTTPClient asks for instead of sleeping.
final class SleepRecorder: Sendable {
    private let waits = Mutex<[Duration]>([])
    var recorded: [Duration] { waits.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { duration in self.waits.withLock { $0.append(duration) } }
    }
}
