import Hummingbird
import Logging

/// `POST /v1/chat/completions` (OpenAI): checks the body just enough to route and meter
/// it, then serves it from whichever provider the project's route or keys name.
struct ChatCompletionsController: Sendable {
    let pipeline: ProxyPipeline

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.post("chat/completions") { request, context in try await self.create(request, context: context) }
        return routes
    }

    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let bytes = try await pipeline.readBody(request)
        let body = try ChatCompletionRequestBody.parse(bytes)
        context.logger.debug("chat completion", metadata: ["model": "\(body.model)", "stream": "\(body.stream)"])
        let clientRequest = ClientRequest(
            api: .chatCompletions, model: body.model, stream: body.stream, includeUsage: body.clientRequestedUsage, bytes: bytes,
            passthroughBody: { body.upstreamBody(model: $0) }, endUser: body.endUser)
        return try await pipeline.serve(clientRequest, maxOutputTokens: body.maxOutputTokens, request: request, context: context)
    }
}
