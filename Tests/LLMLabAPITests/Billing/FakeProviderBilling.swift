import Foundation
import GRPCCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// A provider billing API on a loopback socket for the API tests: answers by path with
/// canned JSON and counts requests. (The connector tests in LLMLabBillingTests cover the
/// protocol details; here it only has to feed a sync.)
final class FakeProviderBilling: Sendable {
    private let routes: [String: (status: Int, body: String)]
    private let hits = Mutex<[String]>([])

    init(_ routes: [String: (status: Int, body: String)]) { self.routes = routes }

    var requestedPaths: [String] { hits.withLock { $0 } }

    func serving<R: Sendable>(_ body: @Sendable (String) async throws -> R) async throws -> R {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let path = request.uri.path
            let page = (request.uri.query ?? "").contains("page=") ? "?page" : ""
            self.hits.withLock { $0.append(path + page) }
            let route = self.routes[path + page] ?? self.routes[path] ?? (404, "{}")
            return Response(status: .init(code: route.status), body: ResponseBody(byteBuffer: ByteBuffer(string: route.body)))
        }
        var logger = Logger(label: "fake-provider-billing")
        logger.logLevel = .critical
        let (ports, port) = AsyncStream<Int>.makeStream()
        let app = Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            guard let listening = await ports.first(where: { _ in true }) else {
                throw RPCError(code: .internalError, message: "fake billing server did not start")
            }
            return try await body("http://127.0.0.1:\(listening)")
        }
    }
}
