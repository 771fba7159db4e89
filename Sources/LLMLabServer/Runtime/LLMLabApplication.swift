import Foundation
import LLMLabAPI
import LLMLabGateway
import LLMLabSecurity
import LLMLabStore
import LLMLabTracing
public import Logging
import ServiceLifecycle
import UnixSignals

/// The composition root: turns a ``ServerConfiguration`` into running services — the
/// database (embedded or external), the control plane on its gRPC listener, background
/// jobs — under one ServiceGroup that shuts down gracefully on SIGTERM/SIGINT.
public enum LLMLabApplication {
    public static func run(configuration: ServerConfiguration, environment: [String: String], logger: Logger) async throws {
        // 0711: others may traverse (so the embedded cluster's unprivileged user can reach
        // home/pg) but not list; every secret file inside is 0600 on its own.
        try FileManager.default.createDirectory(atPath: configuration.home, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o711])
        let masterKey = try MasterKeySource.load(configuration: configuration, environment: environment)
        let (databaseConfiguration, embedded) = try await startDatabase(configuration: configuration, logger: logger)
        do {
            let database = Database(configuration: databaseConfiguration, logger: logger)
            // Traces: one writer (batched, spooled while PostgreSQL is away) behind both OTLP
            // endpoints and the proxy's own spans.
            let spanWriter = SpanWriter(database: database, configuration: .init(spoolDirectory: configuration.home + "/spool-spans"),
                                        logger: logger)
            let traceIngest = TraceIngest(database: database, sink: spanWriter,
                                          overrides: PriceOverrideCache(database: database, logger: logger), logger: logger,
                                          maxBodyBytes: configuration.http.maxTraceBytes)
            let proxySpans = ProxySpanForwarder(sink: spanWriter, logger: logger)
            var planeConfiguration = ControlPlane.Configuration.defaults
            planeConfiguration.allowCustomBillingEndpoints = configuration.allowCustomBillingEndpoints
            var billingSchedule = BillingSyncScheduler.Configuration.defaults
            billingSchedule.allowCustomEndpoints = configuration.allowCustomBillingEndpoints
            let plane = ControlPlane(database: database, passwordHasher: PasswordHasher(), keyVault: KeyVault(masterKey: masterKey), logger: logger,
                                     configuration: planeConfiguration, traceIngest: traceIngest)
            let (security, scheme) = try GRPCListener.security(for: configuration.grpc, tlsDirectory: configuration.tlsDirectory, logger: logger)
            let server = GRPCListener.makeServer(
                host: configuration.grpc.host, port: configuration.grpc.port, security: security,
                services: plane.services, interceptors: plane.interceptors)
            let controlPlane = ControlPlaneService(
                database: database, server: GRPCServerService(server: server, logger: logger, scheme: scheme, onShutdown: { plane.shutdown.fire() }),
                operatorTokenFile: configuration.operatorTokenFile, logger: logger)
            // Built last: the application owns an HTTP client that only its run() shuts down.
            var gatewayConfiguration = configuration.gatewayConfiguration
            if configuration.http.tls {
                let (chain, key) = try GRPCListener.certificateFiles(for: configuration.grpc, tlsDirectory: configuration.tlsDirectory, logger: logger)
                gatewayConfiguration.tls = TLSFiles(certificateChain: chain, privateKey: key)
            }
            // The dashboard at /ui: a client of the control plane over the in-process transport.
            let dashboard = DashboardComposition(plane: plane, secureCookies: configuration.http.tls, logger: logger)
            let gateway = Gateway(database: database, keyVault: KeyVault(masterKey: masterKey),
                                  configuration: gatewayConfiguration, logger: logger,
                                  traceReceiver: TraceReceiverAdapter(ingest: traceIngest), callObserver: proxySpans,
                                  additionalRoutes: [dashboard.routes])
            gateway.metrics.attachSamples { [spanWriter, traceIngest] in
                [
                    MetricSample(name: "llmlab_trace_spans_stored_total", help: "Spans stored through OTLP ingest (gRPC and HTTP) since start.",
                                 type: .counter, value: Int64(traceIngest.counters.stored)),
                    MetricSample(name: "llmlab_trace_spans_rejected_total", help: "OTLP spans rejected (invalid ids) since start.",
                                 type: .counter, value: Int64(traceIngest.counters.rejected)),
                    MetricSample(name: "llmlab_trace_queue_spans", help: "Spans waiting in memory to be written.",
                                 type: .gauge, value: Int64(spanWriter.queueDepth)),
                    MetricSample(name: "llmlab_trace_spool_bytes", help: "Bytes of spans spooled to disk awaiting replay.",
                                 type: .gauge, value: spanWriter.spoolBytes),
                ]
            }
            let application = try gateway.buildApplication()
            let group = ServiceGroup(configuration: .init(
                services: [
                    .init(service: database),
                    // Before the application, so it stops after it and flushes the last events.
                    .init(service: gateway.usageWriter),
                    .init(service: spanWriter),
                    .init(service: proxySpans),
                    .init(service: controlPlane, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                    // Before the application: the dashboard's pages use it until the listener stops.
                    .init(service: dashboard.service),
                    .init(service: application, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                    // Background jobs: each starts once the schema is up to date.
                    .init(service: AfterSchemaReady(SessionJanitor(database: database, logger: logger), database: database)),
                    .init(service: AfterSchemaReady(RetentionJob(database: database, logger: logger), database: database)),
                    .init(service: AfterSchemaReady(WebhookDeliverer(database: database, keyVault: KeyVault(masterKey: masterKey),
                                                                     smtp: configuration.smtp, logger: logger),
                                                    database: database)),
                    .init(service: AfterSchemaReady(AlertEvaluator(database: database, logger: logger), database: database)),
                    .init(service: AfterSchemaReady(BillingSyncScheduler(database: database, keyVault: KeyVault(masterKey: masterKey),
                                                                         configuration: billingSchedule, logger: logger),
                                                    database: database)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            try await group.run()
        } catch {
            try? await embedded?.stop()
            throw error
        }
        try await embedded?.stop()
        logger.info("llmlab-server stopped")
    }

    /// The external database from the URL, or the embedded cluster under `home/pg`.
    static func startDatabase(configuration: ServerConfiguration, logger: Logger) async throws -> (DatabaseConfiguration, EmbeddedPostgres?) {
        if let url = configuration.databaseURL {
            return (try DatabaseConfiguration.parse(url: url), nil)
        }
        var embeddedConfiguration = EmbeddedPostgres.Configuration.defaults(home: configuration.home)
        embeddedConfiguration.systemUser = configuration.embeddedPostgresUser
        let embedded = EmbeddedPostgres(configuration: embeddedConfiguration, logger: logger)
        let databaseConfiguration = try await embedded.start()
        return (databaseConfiguration, embedded)
    }
}

extension ServerConfiguration {
    /// What the HTTP listener (proxy, health, metrics) needs from the server's settings.
    var gatewayConfiguration: GatewayConfiguration {
        var gateway = GatewayConfiguration()
        gateway.host = http.host
        gateway.port = http.port
        gateway.providerBaseURLs.openAI = http.openAIBaseURL
        gateway.providerBaseURLs.anthropic = http.anthropicBaseURL
        gateway.providerBaseURLs.gemini = http.geminiBaseURL
        gateway.upstreamTimeout = .seconds(http.upstreamTimeoutSeconds)
        gateway.upstreamReadTimeout = .seconds(http.upstreamTimeoutSeconds)
        gateway.maxRequestBodyBytes = http.maxRequestBytes
        gateway.maxTraceBodyBytes = http.maxTraceBytes
        gateway.usageSpoolDirectory = home + "/spool"
        return gateway
    }
}
