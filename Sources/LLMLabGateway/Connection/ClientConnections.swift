import NIOCore
import Synchronization

/// Knows, for each open client connection, whether the client has gone away, so a request
/// whose client disconnected stops its upstream call instead of paying for tokens nobody
/// reads.
///
/// Hummingbird only notices a closed connection when it next writes to it, which for a
/// slow upstream may be minutes later. A channel handler (``ClientCloseHandler``) sees the
/// end of the client's input (FIN; the server allows half-closure) or the connection's end
/// (RST, close) at once and fires the connection's ``ClientConnection``. Unlike
/// Hummingbird's `consumeWithInboundCloseHandler`, this keeps keep-alive connections
/// reusable for the next request.
public final class ClientConnections: Sendable {
    private let open = Mutex<[ObjectIdentifier: ClientConnection]>([:])

    public init() {}

    /// The handler to install in each new connection's pipeline.
    func makeHandler() -> ClientCloseHandler {
        ClientCloseHandler(registry: self)
    }

    /// The state of `channel`'s connection, or `nil` if the handler is not on it.
    func connection(for channel: any Channel) -> ClientConnection? {
        open.withLock { $0[ObjectIdentifier(channel)] }
    }

    fileprivate func register(_ channel: any Channel, _ connection: ClientConnection) {
        open.withLock { $0[ObjectIdentifier(channel)] = connection }
    }

    fileprivate func remove(_ channel: any Channel) {
        _ = open.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// One client connection: fires once when the client closes its side or the connection ends.
public final class ClientConnection: Sendable {
    private struct State {
        var closed = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    init() {}

    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Marks the connection closed and wakes every waiter. Idempotent.
    func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.closed else { return [] }
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the connection closes, or when the calling task is cancelled.
    func waitUntilClosed() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// Thrown when the client went away while its request was being served.
struct ClientDisconnected: Error, CustomStringConvertible {
    var description: String { "the client closed the connection" }
}

extension ClientConnection? {
    /// Runs `operation`, cancelling it when the client disconnects (then throwing
    /// ``ClientDisconnected``). Without a known connection, just runs it.
    func cancellingOnClose<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let connection = self else { return try await operation() }
        if connection.isClosed { throw ClientDisconnected() }
        return try await withThrowingTaskGroup(of: CancellableOutcome<T>.self) { group in
            group.addTask { .finished(try await operation()) }
            group.addTask {
                await connection.waitUntilClosed()
                return .disconnected
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            switch first {
            case .finished(let value):
                return value
            case .disconnected:
                if Task.isCancelled { throw CancellationError() }
                throw ClientDisconnected()
            }
        }
    }
}

/// Which child of ``Optional/cancellingOnClose(_:)`` finished first.
private enum CancellableOutcome<T: Sendable>: Sendable {
    case finished(T)
    case disconnected
}

/// Watches one connection's pipeline for the client going away. Never touches the data:
/// it only observes events, and forwards everything.
final class ClientCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny  // never unwrapped: reads pass through untouched

    private let registry: ClientConnections
    private let connection = ClientConnection()
    private var registered = false

    init(registry: ClientConnections) {
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        registry.register(context.channel, connection)
        registered = true
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        unregister(context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.close()
        unregister(context.channel)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            connection.close()
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func unregister(_ channel: any Channel) {
        guard registered else { return }
        registered = false
        registry.remove(channel)
    }
}
