import AsyncHTTPClient
import Logging
import NIOCore
import ServiceLifecycle

/// The one HTTP client the proxy uses to reach providers: pooled connections (HTTP/2 where
/// the provider offers it), no redirects, no decompression (bodies pass through as sent).
/// The deadline for a response head is per request; `readTimeout` bounds silence inside a
/// body (a stream that stops sending).
struct UpstreamClient: Sendable {
    let http: HTTPClient

    init(configuration: GatewayConfiguration) {
        var client = HTTPClient.Configuration()
        client.timeout = .init(
            connect: TimeAmount(configuration.upstreamConnectTimeout),
            read: TimeAmount(configuration.upstreamReadTimeout))
        client.redirectConfiguration = .disallow
        client.decompression = .disabled
        client.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: client)
    }
}

/// Shuts the upstream client down after the HTTP server has stopped (it is listed before
/// the server in the application's services, so it stops after it).
struct UpstreamClientService: Service {
    let client: UpstreamClient
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try await client.http.shutdown()
        } catch {
            logger.warning("upstream HTTP client did not shut down cleanly", metadata: ["error": "\(error)"])
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
