import GRPCCore
import GRPCInProcessTransport
import Hummingbird
import LLMLabAPI
import LLMLabGateway
import LLMLabWeb
import Logging
import ServiceLifecycle

/// The browser dashboard's wiring: a second gRPC server with the control plane's own
/// services and interceptors on an in-process transport, a client of it, and the
/// dashboard's routes built on that client for the HTTP listener. The dashboard thus
/// takes exactly the API's paths (authentication, RBAC, audit, validation, tenant
/// isolation) without a network hop or a TLS handshake.
struct DashboardComposition {
    /// Runs the in-process server and the client's connections; put it before the HTTP
    /// application in the ServiceGroup so it stops after the pages that use it.
    let service: DashboardBackendService
    let controller: DashboardController<GatewayRequestContext, InProcessTransport.Client>

    /// For ``Gateway``'s `additionalRoutes`.
    var routes: @Sendable () -> RouteCollection<GatewayRequestContext> { { [controller] in controller.routes } }

    init(plane: ControlPlane, secureCookies: Bool, logger: Logger) {
        let inProcess = InProcessTransport()
        let server = GRPCServer(transport: inProcess.server, services: plane.services, interceptors: plane.interceptors)
        let client = GRPCClient(transport: inProcess.client)
        var configuration = DashboardController<GatewayRequestContext, InProcessTransport.Client>.Configuration.defaults
        configuration.secureCookies = secureCookies
        self.controller = DashboardController<GatewayRequestContext, InProcessTransport.Client>(
            client: client, configuration: configuration, logger: logger)
        self.service = DashboardBackendService(server: server, client: client, logger: logger)
    }
}

/// The in-process gRPC server and client under swift-service-lifecycle: both run until
/// graceful shutdown, then finish in-flight RPCs and stop.
struct DashboardBackendService: Service {
    let server: GRPCServer<InProcessTransport.Server>
    let client: GRPCClient<InProcessTransport.Client>
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                group.addTask { try await client.runConnections() }
            }
        } onGracefulShutdown: {
            logger.debug("dashboard gRPC client and in-process server shutting down")
            client.beginGracefulShutdown()
            server.beginGracefulShutdown()
        }
    }
}
