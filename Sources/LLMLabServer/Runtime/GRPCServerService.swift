import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle

/// Runs a gRPC server under swift-service-lifecycle: graceful shutdown stops accepting
/// new RPCs and lets in-flight ones finish. (The packages available here have no
/// ready-made adapter.)
struct GRPCServerService: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let logger: Logger
    let scheme: String
    /// Runs first on graceful shutdown (ends long-lived streams).
    var onShutdown: @Sendable () -> Void = {}

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                group.addTask {
                    if let address = try await server.listeningAddress {
                        logger.info("gRPC listening", metadata: ["address": "\(address)", "security": "\(scheme)"])
                    }
                }
            }
        } onGracefulShutdown: {
            logger.info("gRPC shutting down gracefully")
            onShutdown()
            server.beginGracefulShutdown()
        }
    }
}
