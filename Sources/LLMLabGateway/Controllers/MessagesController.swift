import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/messages` (Anthropic's Messages API, streaming and not) for the official
/// `anthropic` SDKs: passed through to Anthropic deployments, translated for OpenAI, Azure
/// OpenAI and Gemini ones. Errors come back in Anthropic's shape.
struct MessagesController: Sendable {
    let pipeline: ProxyPipeline

    /// Client headers that choose Anthropic API behaviour, forwarded to Anthropic.
    static let passedHeaders = ["anthropic-version", "anthropic-beta"]

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.post("messages") { request, context in try await self.create(request, context: context) }
        return routes
    }

    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let bytes = try await pipeline.readBody(request)
        let body = try MessagesRequestBody.parse(bytes)
        context.logger.debug("messages", metadata: ["model": "\(body.model)", "stream": "\(body.stream)"])
        var passHeaders: [(String, String)] = []
        for name in Self.passedHeaders {
            if let field = HTTPField.Name(name), let value = request.headers[field] { passHeaders.append((name, value)) }
        }
        let clientRequest = ClientRequest(
            api: .messages, model: body.model, stream: body.stream, includeUsage: true, bytes: bytes, passHeaders: passHeaders,
            passthroughBody: { body.upstreamBody(model: $0) }, endUser: body.endUser)
        return try await pipeline.serve(clientRequest, maxOutputTokens: body.maxOutputTokens, request: request, context: context)
    }
}
