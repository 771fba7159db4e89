import HTTPTypes
import Hummingbird
import LLMLabStore
import Logging
import PostgresNIO

/// `GET /healthz`: 200 `{"status":"ok"}` when the database answers within the configured
/// time, 503 otherwise. For load balancers and orchestrators; no authentication.
struct HealthController: Sendable {
    let database: Database
    let timeout: Duration
    let logger: Logger

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.get("healthz") { _, _ in await self.check() }
        return routes
    }

    func check() async -> Response {
        let healthy = await databaseAnswers()
        let body = healthy ? #"{"status":"ok"}"# : #"{"status":"unavailable","reason":"the database did not answer"}"#
        return Response(status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private func databaseAnswers() async -> Bool {
        let client = database.client
        let logger = self.logger
        let timeout = self.timeout
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    let rows = try await client.query("SELECT 1", logger: logger)
                    for try await _ in rows {}
                    return true
                } catch {
                    logger.warning("health check: the database did not answer", metadata: ["error": "\(error)"])
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
