import Foundation
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf

/// Route and deployment-health records → wire messages.
extension MessageMapping {
    static func route(_ record: RouteRecord) -> Llmlab_V1_Route {
        Llmlab_V1_Route.with {
            $0.id = record.id.uuidString.lowercased()
            $0.projectID = record.projectID.uuidString.lowercased()
            $0.alias = record.alias
            $0.strategy = EnumMapping.routeStrategy(record.strategy)
            $0.deployments = record.deployments.map(routeDeployment)
            $0.createdAt = timestamp(record.createdAt)
            $0.updatedAt = timestamp(record.updatedAt)
        }
    }

    static func routeDeployment(_ record: RouteDeploymentRecord) -> Llmlab_V1_RouteDeployment {
        Llmlab_V1_RouteDeployment.with {
            $0.id = record.id.uuidString.lowercased()
            $0.provider = EnumMapping.provider(record.provider)
            $0.model = record.model
            $0.providerKeyID = record.providerKeyID.uuidString.lowercased()
            $0.weight = Int32(record.weight)
            $0.priority = Int32(record.priority)
            if let timeout = record.timeoutMilliseconds { $0.timeoutMs = Int32(timeout) }
        }
    }

    /// One deployment's health at `now`; healthy with no `updated_at` when nothing is recorded.
    static func deploymentHealth(
        _ deployment: RouteDeploymentRecord, _ health: DeploymentHealthRecord?, now: Date
    ) -> Llmlab_V1_DeploymentHealth {
        Llmlab_V1_DeploymentHealth.with {
            $0.deployment = routeDeployment(deployment)
            $0.state = .healthy
            guard let health else { return }
            $0.state = health.effectiveState(at: now) == .coolingDown ? .coolingDown : .healthy
            if let until = health.cooldownUntil { $0.cooldownUntil = timestamp(until) }
            $0.consecutiveFailures = Int32(clamping: health.consecutiveFailures)
            $0.lastErrorClass = health.lastErrorClass
            if let last = health.lastLatencyMilliseconds { $0.lastLatencyMs = Int32(clamping: last) }
            if let p50 = health.p50LatencyMilliseconds { $0.p50LatencyMs = Int32(clamping: p50) }
            $0.updatedAt = timestamp(health.updatedAt)
        }
    }
}

extension EnumMapping {
    static func routeStrategy(_ strategy: RouteStrategy) -> Llmlab_V1_RouteStrategy {
        switch strategy {
        case .weighted: .weighted
        case .leastLatency: .leastLatency
        }
    }
}
