public import GRPCCore
public import LLMLabSecurity
public import LLMLabStore
public import LLMLabTracing
public import Logging

/// Everything the control-plane services share, and the composition of those services
/// with their interceptor. The server builds one and hands `services` and `interceptors`
/// to its gRPC listener; tests do the same on a loopback listener.
public struct ControlPlane: Sendable {
    public struct Configuration: Sendable {
        /// How long a login session lasts.
        public var sessionLifetime: Duration = .seconds(12 * 3600)
        public var loginThrottle: LoginThrottle.Configuration = .defaults
        /// How often Health.Watch re-checks the database.
        public var healthWatchInterval: Duration = .seconds(5)
        /// Whether billing connections may set `base_url` / `token_url` (see
        /// ``BillingSync/allowCustomEndpoints``). Off: a tenant admin cannot point the
        /// server's billing calls at an arbitrary address.
        public var allowCustomBillingEndpoints = false
        public static let defaults = Configuration()
        public init() {}
    }

    public let database: Database
    public let passwordHasher: PasswordHasher
    public let keyVault: KeyVault
    public let logger: Logger
    public let configuration: Configuration
    let throttle: LoginThrottle
    let auditor: Auditor
    /// Fired when the server begins graceful shutdown: ends Health.Watch streams.
    public let shutdown = ShutdownSignal()
    /// OTLP trace ingest; with it the plane also serves `TraceService/Export`.
    public let traceIngest: TraceIngest?

    public init(
        database: Database, passwordHasher: PasswordHasher, keyVault: KeyVault, logger: Logger,
        configuration: Configuration = .defaults, traceIngest: TraceIngest? = nil
    ) {
        self.traceIngest = traceIngest
        self.database = database
        self.passwordHasher = passwordHasher
        self.keyVault = keyVault
        self.logger = logger
        self.configuration = configuration
        self.throttle = LoginThrottle(configuration: configuration.loginThrottle)
        self.auditor = Auditor(logger: logger)
    }

    public var services: [any RegistrableRPCService] {
        var services: [any RegistrableRPCService] = [
            HealthAPI(self), TenantAPI(self), AuthAPI(self), UserAPI(self), ProjectAPI(self),
            ProviderKeyAPI(self), RouteAPI(self), PricingAPI(self), UsageAPI(self), AnalyticsAPI(self), TraceQueryAPI(self),
            AuditAPI(self), AlertAPI(self), BillingAPI(self),
        ]
        if let traceIngest { services.append(OTLPTraceAPI(ingest: traceIngest)) }
        return services
    }

    public var interceptors: [any ServerInterceptor] {
        [AuthorizationInterceptor(database: database, logger: logger)]
    }
}
