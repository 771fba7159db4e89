import GRPCCore
import LLMLabProto
import LLMLabStore
import Logging
import SwiftProtobuf
import PostgresNIO

/// The standard `grpc.health.v1.Health` service. The server is SERVING when it can reach
/// its database. The overall service ("") and each LLMLab service name are known.
struct HealthAPI: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    static let knownServices: Set<String> = [
        "", "grpc.health.v1.Health", "llmlab.v1.TenantService", "llmlab.v1.AuthService", "llmlab.v1.UserService",
        "llmlab.v1.ProjectService", "llmlab.v1.ProviderKeyService", "llmlab.v1.RouteService",
        "llmlab.v1.PricingService", "llmlab.v1.AuditService",
    ]

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard Self.knownServices.contains(request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \"\(request.service)\"")
        }
        return Grpc_Health_V1_HealthCheckResponse.with { $0.status = .init(serving: true) }
            .with(status: await currentStatus())
    }

    /// Streams the status now and on every change. Ends when the client cancels (gRPC
    /// signals that through `context.cancellation`, not task cancellation) or when the
    /// server shuts down, after a final NOT_SERVING.
    func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        let known = Self.knownServices.contains(request.service)
        let plane = self.plane
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
                while true {
                    let status = known ? await currentStatus() : .serviceUnknown
                    if status != last {
                        try await response.write(.with { $0.status = status })
                        last = status
                    }
                    try await Task.sleep(for: plane.configuration.healthWatchInterval)
                }
            }
            group.addTask { try await context.cancellation.cancelled }
            group.addTask {
                await plane.shutdown.wait()
                try await response.write(.with { $0.status = .notServing })
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    private func currentStatus() async -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        do {
            try await plane.database.withControlTransaction { connection in
                try await connection.query("SELECT 1", logger: plane.logger)
            }
            return .serving
        } catch {
            plane.logger.warning("health check: database unreachable")
            return .notServing
        }
    }
}

extension Grpc_Health_V1_HealthCheckResponse.ServingStatus {
    init(serving: Bool) { self = serving ? .serving : .notServing }
}

extension Grpc_Health_V1_HealthCheckResponse {
    func with(status: ServingStatus) -> Self {
        var copy = self
        copy.status = status
        return copy
    }
}
