public import Hummingbird
import HummingbirdTLS
import NIOSSL
import HummingbirdCore
public import LLMLabSecurity
public import LLMLabStore
public import Logging
import LLMLabCore
public import NIOCore

/// The HTTP side of `llmlab-server`: the OpenAI-compatible proxy (`/v1/*`), `/healthz`
/// and `/metrics`, as one Hummingbird application that runs as a `Service` in the
/// server's ServiceGroup next to the gRPC control plane and the database pool.
public struct Gateway: Sendable {
    public let configuration: GatewayConfiguration
    public let metrics: GatewayMetrics
    let database: Database
    let keyVault: KeyVault
    let logger: Logger
    let connections = ClientConnections()
    /// Writes usage events in the background; a `Service` the server runs in its group,
    /// before (so it stops after) the application.
    public let usageWriter: UsageWriter
    let priceOverrides: PriceOverrideCache
    /// Rate limits and budget reservations (in memory, per server).
    let admission: RequestAdmission
    /// Route deployment health: cooldowns and latency (in memory, flushed to the database
    /// by a service of the application).
    let deploymentHealth: DeploymentHealthTracker

    /// Receives `POST /v1/traces`; without one that route answers 404.
    let traceReceiver: (any TraceExportReceiver)?
    /// Told about every proxied call (proxy spans).
    let callObserver: (any ProxyCallObserver)?
    /// More routes under `/ui` (the dashboard), without the proxy's virtual-key middleware.
    /// Builders rather than collections: a `RouteCollection` is not `Sendable`.
    let additionalRoutes: [@Sendable () -> RouteCollection<GatewayRequestContext>]

    public init(database: Database, keyVault: KeyVault, configuration: GatewayConfiguration, logger: Logger,
                metrics: GatewayMetrics = GatewayMetrics(), usageWriter: UsageWriter? = nil,
                traceReceiver: (any TraceExportReceiver)? = nil, callObserver: (any ProxyCallObserver)? = nil,
                additionalRoutes: [@Sendable () -> RouteCollection<GatewayRequestContext>] = []) {
        self.additionalRoutes = additionalRoutes
        self.traceReceiver = traceReceiver
        self.callObserver = callObserver
        self.database = database
        self.keyVault = keyVault
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        let writer = usageWriter ?? UsageWriter(
            database: database, configuration: .init(spoolDirectory: configuration.usageSpoolDirectory), logger: logger)
        self.usageWriter = writer
        self.priceOverrides = PriceOverrideCache(database: database, logger: logger)
        self.admission = RequestAdmission(database: database, configuration: configuration.budget, overrides: priceOverrides,
                                          logger: logger)
        self.deploymentHealth = DeploymentHealthTracker(cooldown: configuration.deploymentCooldown,
                                                        failureThreshold: configuration.deploymentFailureThreshold)
        metrics.attachUsageGauges { [weak writer] in (writer?.queueDepth ?? 0, writer?.spoolBytes ?? 0) }
    }

    /// The application, ready to run (it is a `Service`). It owns the upstream HTTP client
    /// and shuts it down when it stops, so run it exactly once.
    ///
    /// - Parameter onServerRunning: called with the bound port once the listener is up
    ///   (useful with port 0).
    public func buildApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws
        -> some ApplicationProtocol
    {
        let logger = self.logger
        let configuration = self.configuration
        var server: HTTPServerBuilder = .http1(configuration: .init(
            additionalChannelHandlers: [self.connections.makeHandler()],
            idleTimeout: .init(configuration.idleTimeout)))
        if let tls = configuration.tls {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
                server = try .tls(server, tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw GatewayStartupError("the HTTP listener's TLS certificate (\(tls.certificateChain)) or key (\(tls.privateKey)) could not be loaded: \(error)")
            }
        }
        let client = UpstreamClient(configuration: configuration)
        return Application(
            router: buildRouter(client: client),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [UpstreamClientService(client: client, logger: logger),
                       DeploymentHealthFlusher(tracker: deploymentHealth, database: database,
                                               interval: configuration.deploymentHealthFlushInterval, logger: logger)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("HTTP proxy listening", metadata: ["address": "\(configuration.host):\(port)",
                                                              "scheme": "\(configuration.tls == nil ? "http" : "https")"])
                await onServerRunning(port)
            },
            logger: logger)
    }

    /// Routes: `/healthz` and `/metrics` open; `/v1/*` behind virtual-key authentication.
    func buildRouter(client: UpstreamClient) -> Router<GatewayRequestContext> {
        let resolver = ProviderKeyResolver(database: database, keyVault: keyVault, logger: logger)
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: GatewayObservationMiddleware(metrics: metrics, connections: connections))
        router.addRoutes(HealthController(database: database, timeout: configuration.healthCheckTimeout, logger: logger).routes)
        router.addRoutes(MetricsController(metrics: metrics).routes)
        let authenticator = VirtualKeyAuthenticator(database: database, logger: logger)
        let v1 = router.group("v1")
            .add(middleware: VirtualKeyMiddleware(authenticator: authenticator))
        v1.addRoutes(ModelsController(resolver: resolver).routes)
        let pipeline = ProxyPipeline(
            resolver: resolver,
            exchange: UpstreamExchange(client: client, configuration: configuration, metrics: metrics,
                                       meter: UsageMeter(overrides: priceOverrides, writer: usageWriter, metrics: metrics, observer: callObserver)),
            admission: admission, health: deploymentHealth, maxRequestBodyBytes: configuration.maxRequestBodyBytes)
        v1.addRoutes(ChatCompletionsController(pipeline: pipeline).routes)
        v1.addRoutes(MessagesController(pipeline: pipeline).routes)
        v1.addRoutes(EmbeddingsController(pipeline: pipeline).routes)
        for routes in additionalRoutes {
            router.addRoutes(routes(), atPath: "/ui")
        }
        if let traceReceiver {
            router.group("v1")
                .add(middleware: VirtualKeyMiddleware(authenticator: authenticator, scope: ApiKeyScope.ingest))
                .addRoutes(TracesController(receiver: traceReceiver, maxBodyBytes: configuration.maxTraceBodyBytes).routes)
        }
        return router
    }
}

/// The client's address for handlers that throttle per client (the dashboard's sign-in).
extension GatewayRequestContext: RemoteAddressRequestContext {
    public var remoteAddress: SocketAddress? { channel?.remoteAddress }
}

/// The HTTP listener could not be set up (e.g. its TLS files are unreadable).
public struct GatewayStartupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
