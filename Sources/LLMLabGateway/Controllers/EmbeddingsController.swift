import Hummingbird

/// `POST /v1/embeddings` (OpenAI): passed through to OpenAI and Azure OpenAI deployments,
/// translated for Gemini (`batchEmbedContents`). Anthropic has no embeddings API.
struct EmbeddingsController: Sendable {
    let pipeline: ProxyPipeline

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.post("embeddings") { request, context in try await self.create(request, context: context) }
        return routes
    }

    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let bytes = try await pipeline.readBody(request)
        let body = try EmbeddingsRequestBody.parse(bytes)
        let clientRequest = ClientRequest(
            api: .embeddings, model: body.model, stream: false, includeUsage: false, bytes: bytes,
            passthroughBody: { body.upstreamBody(model: $0) }, endUser: body.endUser)
        return try await pipeline.serve(clientRequest, maxOutputTokens: 0, request: request, context: context)
    }
}
