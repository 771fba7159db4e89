import Foundation
import LLMLabCore
import LLMLabProto
import LLMLabStore

/// The shape of a SetRoute request, checked before any database work. Errors name the
/// field, down to the deployment (`deployments[2].weight`). What needs the database (the
/// project allows the provider, the key belongs to the project) is checked by
/// ``RouteAPI`` inside the transaction.
enum RouteValidation {
    static let deploymentLimit = 20
    static let weights = 1...1000
    static let priorities = 0...1000
    static let timeouts = 100...600_000

    static func strategy(_ wire: Llmlab_V1_RouteStrategy) throws -> RouteStrategy {
        switch wire {
        case .unspecified, .weighted: return .weighted
        case .leastLatency: return .leastLatency
        case .UNRECOGNIZED:
            throw ValidationError(field: "strategy", reason: "must be ROUTE_STRATEGY_WEIGHTED or ROUTE_STRATEGY_LEAST_LATENCY")
        }
    }

    /// 1-20 well-formed deployments, each target once. Request ids are ignored (output only);
    /// each deployment gets a fresh id that the store replaces when the target is kept.
    static func deployments(_ wire: [Llmlab_V1_RouteDeployment]) throws -> [RouteDeploymentRecord] {
        guard !wire.isEmpty else {
            throw ValidationError(field: "deployments", reason: "needs at least one deployment (provider, model, provider_key_id)")
        }
        guard wire.count <= deploymentLimit else {
            throw ValidationError(field: "deployments", reason: "has \(wire.count) deployments; a route has at most \(deploymentLimit)")
        }
        var seen: [DeploymentTarget: Int] = [:]
        var result: [RouteDeploymentRecord] = []
        for (index, deployment) in wire.enumerated() {
            let field = "deployments[\(index)]"
            let record = try self.deployment(deployment, field: field)
            if let first = seen[record.target] {
                throw ValidationError(field: field, reason: "repeats deployments[\(first)] (same provider, model and provider_key_id); list each target once")
            }
            seen[record.target] = index
            result.append(record)
        }
        return result
    }

    static func deployment(_ wire: Llmlab_V1_RouteDeployment, field: String) throws -> RouteDeploymentRecord {
        let provider = try EnumMapping.provider(wire.provider, field: "\(field).provider")
        let model = try ModelNameValidation.model(wire.model, field: "\(field).model")
        let keyID = try Validate.id(wire.providerKeyID, field: "\(field).provider_key_id")
        let weight = wire.weight == 0 ? 1 : Int(wire.weight)
        guard weights.contains(weight) else {
            throw ValidationError(field: "\(field).weight", reason: "must be between \(weights.lowerBound) and \(weights.upperBound) (0 for the default 1)")
        }
        let priority = Int(wire.priority)
        guard priorities.contains(priority) else {
            throw ValidationError(field: "\(field).priority", reason: "must be between \(priorities.lowerBound) and \(priorities.upperBound); 0 is tried first")
        }
        var timeout: Int?
        if wire.hasTimeoutMs {
            guard timeouts.contains(Int(wire.timeoutMs)) else {
                throw ValidationError(field: "\(field).timeout_ms", reason: "must be between \(timeouts.lowerBound) and \(timeouts.upperBound) milliseconds, or unset for the proxy's default")
            }
            timeout = Int(wire.timeoutMs)
        }
        return RouteDeploymentRecord(provider: provider, model: model, providerKeyID: keyID, weight: weight,
                                     priority: priority, timeoutMilliseconds: timeout)
    }
}
