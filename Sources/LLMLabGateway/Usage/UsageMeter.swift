import Foundation
import LLMLabCore
import LLMLabStore
import Logging

/// Prices each proxied call and queues its usage event: the provider's usage, normalised
/// into token classes by the call's translation, priced by ``CostCalculator``
/// with the model the response reports, the request's start time and the tenant's price
/// overrides. A call that cannot be priced is recorded unpriced with the reason.
struct UsageMeter: Sendable {
    let overrides: PriceOverrideCache
    let writer: UsageWriter
    let metrics: GatewayMetrics
    /// Records each call elsewhere too (proxy spans); optional.
    var observer: (any ProxyCallObserver)? = nil

    /// What is known about a call when it starts.
    struct Call: Sendable {
        var key: VirtualKey
        var requestID: String
        var provider: Provider
        var model: String
        var startedAt: Date
        var started: ContinuousClock.Instant
        var traceparent: String
        var streamed: Bool
        /// Who the call was for (`x-llmlab-user`, the body's `user` / `metadata.user_id`), "" when unknown.
        var endUser: String = ""
        /// The request's budget reservations and TPM entry, settled here with the real cost.
        var admission: AdmissionTicket? = nil
        /// The route and deployment that served the call, when it came through a route.
        var routeID: UUID? = nil
        var deployment: String = ""
    }

    /// How a call ended.
    struct Outcome: Sendable {
        var status: Int
        var errorClass: String = ""
        var responseModel: String = ""
        /// The provider's usage, normalised into billing classes.
        var usage: TokenUsage?
        /// Why the usage could not be read, when the provider sent it malformed.
        var usageProblem: String?
        var firstByteAt: ContinuousClock.Instant?
    }

    /// Prices the call, queues its event (never waits on the database for the write) and
    /// returns it. Loading the tenant's overrides may hit the database at most once per
    /// cache period.
    @discardableResult
    func record(_ call: Call, _ outcome: Outcome, logger: Logger) async -> UsageEventRecord {
        let pricedModel = outcome.responseModel.isEmpty ? call.model : outcome.responseModel
        var tokens = TokenUsage()
        var cost: USDCost?
        var unpricedReason = ""
        if let usage = outcome.usage {
            tokens = usage
        } else if let problem = outcome.usageProblem {
            unpricedReason = problem
        } else if outcome.status < 400 {
            unpricedReason = "no_usage: the provider's response carried no usage to price"
        }
        if unpricedReason.isEmpty {
            let overrides = await self.overrides.overrides(tenantID: call.key.tenantID)
            switch CostCalculator.cost(provider: call.provider, model: pricedModel, usage: tokens, at: call.startedAt,
                                       overrides: overrides) {
            case .priced(let total, _, _):
                cost = total
            case .unpriced(let reason):
                unpricedReason = "\(reason.code): \(reason.description)"
            }
        }
        await call.admission?.settle(cost: cost?.description, tokens: outcome.usage == nil ? nil : tokens.totalTokens)
        let now = ContinuousClock.now
        let event = UsageEventRecord(
            tenantID: call.key.tenantID, requestID: call.requestID, occurredAt: call.startedAt, projectID: call.key.projectID,
            apiKeyID: call.key.keyID, routeID: call.routeID, deployment: call.deployment, provider: call.provider.rawValue, model: call.model, responseModel: outcome.responseModel,
            inputTokens: Int64(tokens.uncachedInput), cachedInputTokens: Int64(tokens.cacheRead),
            cacheWrite5mTokens: Int64(tokens.cacheWrite5m), cacheWrite1hTokens: Int64(tokens.cacheWrite1h),
            outputTokens: Int64(tokens.output), reasoningTokens: Int64(tokens.reasoning),
            costUSD: cost?.description, unpricedReason: unpricedReason,
            latencyMs: Self.milliseconds(now - call.started), ttftMs: outcome.firstByteAt.map { Self.milliseconds($0 - call.started) },
            status: Int32(outcome.status), errorClass: outcome.errorClass, traceparent: call.traceparent,
            streamed: call.streamed, endUser: call.endUser)
        if let cost {
            metrics.recordCost(provider: call.provider.rawValue, model: pricedModel, usd: Double(cost.description) ?? 0)
        } else if !unpricedReason.isEmpty {
            logger.warning("request is unpriced", metadata: ["model": "\(pricedModel)", "reason": "\(unpricedReason)"])
        }
        writer.enqueue(event)
        observer?.proxied(event)
        return event
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, ms))
    }
}
