import Foundation
import HTTPTypes
import Hummingbird
import LLMLabCore
import HummingbirdCore
import Logging
import NIOCore

/// `POST /v1/chat/completions`: reads and checks the body (size limit, JSON shape), picks
/// and opens the project's provider key, and hands the call to the provider adapter.
struct ChatCompletionsController: Sendable {
    let resolver: ProviderKeyResolver
    let openAI: OpenAIChatUpstream
    let maxRequestBodyBytes: Int
    let admission: RequestAdmission
    let health: DeploymentHealthTracker

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.post("chat/completions") { request, context in try await self.create(request, context: context) }
        return routes
    }

    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let key = context.virtualKey else { throw MissingVirtualKey() }
        let startedAt = Date()
        let started = ContinuousClock.now
        let bytes = try await readBody(request)
        let body = try ChatCompletionRequestBody.parse(bytes)
        context.observation.record(provider: OpenAIChatUpstream.provider, model: body.model)
        context.logger.debug("chat completion", metadata: ["model": "\(body.model)", "stream": "\(body.stream)"])
        // Rate limits and budgets, before anything reaches the provider.
        let estimate = admission.estimate(bodyBytes: bytes.count, requestedMaxOutput: body.maxOutputTokens)
        let ticket = try await admission.admit(key: key, provider: .openai, model: body.model, estimate: estimate, at: startedAt)
        let plan: UpstreamPlan
        do {
            plan = try await resolver.plan(for: key, model: body.model, health: health)
        } catch {
            await ticket.settle(cost: nil, tokens: nil)
            throw error
        }
        var call = UsageMeter.Call(
            key: key, requestID: context.requestID, provider: .openai, model: body.model, startedAt: startedAt, started: started,
            traceparent: request.headers[Self.traceparent].map { String($0.prefix(200)) } ?? "", streamed: body.stream)
        call.admission = ticket
        return try await openAI.respond(to: body, plan: plan, health: health, call: call, context: context)
    }

    static let traceparent = HTTPField.Name("traceparent")!

    /// The whole body, refusing (413) anything over the limit — by its declared length
    /// before reading, or while reading when the length was not declared.
    private func readBody(_ request: Request) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxRequestBodyBytes {
            throw GatewayError.bodyTooLarge(limit: maxRequestBodyBytes)
        }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: maxRequestBodyBytes)
            return Array(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw GatewayError.bodyTooLarge(limit: maxRequestBodyBytes)
        }
    }
}
