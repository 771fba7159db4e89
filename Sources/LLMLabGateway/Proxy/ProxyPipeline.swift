import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import LLMLabCore
import Logging
import NIOCore

/// The steps every proxied call takes, whatever API the client called: read the body
/// under the size limit, plan the deployments, admit the call (rate limits, budgets —
/// before anything reaches a provider), then hand it to the ``UpstreamExchange``.
struct ProxyPipeline: Sendable {
    let resolver: ProviderKeyResolver
    let exchange: UpstreamExchange
    let admission: RequestAdmission
    let health: DeploymentHealthTracker
    let maxRequestBodyBytes: Int

    static let traceparent = HTTPField.Name("traceparent")!
    /// Names the end user for cost by user, over anything the body says.
    static let endUser = HTTPField.Name("x-llmlab-user")!

    /// Serves `clientRequest` for the caller's key.
    func serve(_ clientRequest: ClientRequest, maxOutputTokens: Int?, request: Request,
               context: GatewayRequestContext) async throws -> Response {
        guard let key = context.virtualKey else { throw MissingVirtualKey() }
        let startedAt = Date()
        let started = ContinuousClock.now
        context.observation.record(provider: "", model: clientRequest.model)
        let plan = try await resolver.plan(for: key, model: clientRequest.model, operation: clientRequest.operation, health: health)
        let estimate = admission.estimate(bodyBytes: clientRequest.bytes.count, requestedMaxOutput: maxOutputTokens)
        let candidates = plan.targets.map { (provider: $0.credential.provider, model: $0.model) }
        let ticket = try await admission.admit(key: key, candidates: candidates.isEmpty ? [(.openai, clientRequest.model)] : candidates,
                                               estimate: estimate, at: startedAt)
        var call = UsageMeter.Call(
            key: key, requestID: context.requestID, provider: plan.targets.first?.credential.provider ?? .openai,
            model: clientRequest.model, startedAt: startedAt, started: started,
            traceparent: request.headers[Self.traceparent].map { String($0.prefix(200)) } ?? "", streamed: clientRequest.stream)
        call.admission = ticket
        call.endUser = request.headers[Self.endUser].map { ClientRequest.endUser($0) } ?? clientRequest.endUser
        return try await exchange.respond(to: clientRequest, plan: plan, health: health, call: call, context: context)
    }

    /// The whole body, refusing (413) anything over the limit — by its declared length
    /// before reading, or while reading when the length was not declared.
    func readBody(_ request: Request) async throws -> [UInt8] {
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
