import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware of every route: attaches the client connection, turns every
/// error into an OpenAI-style response (once, here), stamps `x-llmlab-request-id`, and
/// counts the request in ``GatewayMetrics`` when its last byte is written (for streams,
/// when the stream ends).
struct GatewayObservationMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let metrics: GatewayMetrics
    let connections: ClientConnections

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        if let channel = context.channel {
            context.clientConnection = connections.connection(for: channel)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let answer = GatewayError.from(error)
            if error is ClientDisconnected {
                context.logger.debug("client disconnected; upstream call cancelled")
            } else if answer.status.code >= 500, !(error is GatewayError) {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            } else {
                context.logger.debug("request refused", metadata: ["status": "\(answer.status.code)", "error": "\(answer)"])
            }
            response = answer.response(format: .forPath(request.uri.path))
        }
        response.headers[GatewayHeaders.requestID] = context.requestID

        let metrics = self.metrics
        let observation = context.observation
        let route = context.endpointPath ?? "unmatched"
        let status = response.status.code
        let record: @Sendable () -> Void = {
            let labels = observation.labels
            metrics.recordRequest(route: route, provider: labels.provider, model: labels.model, status: status,
                                  duration: ContinuousClock.now - start)
        }
        guard response.body.contentLength == nil else {
            record()
            return response
        }
        // A streamed body: count it when it is done (or broken off).
        let body = response.body
        response.body = ResponseBody { writer in
            do {
                try await body.write(writer)
                record()
            } catch {
                record()
                throw error
            }
        }
        return response
    }
}

/// Header names the proxy adds.
enum GatewayHeaders {
    static let requestID = HTTPField.Name("x-llmlab-request-id")!
    static let apiKey = HTTPField.Name("x-api-key")!
    /// The exact cost of a non-streaming response, or `unpriced`.
    static let costUSD = HTTPField.Name("x-llmlab-cost-usd")!
}
