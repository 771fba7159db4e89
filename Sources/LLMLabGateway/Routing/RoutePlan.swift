import Foundation
import LLMLabCore
import LLMLabStore

/// One upstream target of a proxy call: the opened key, the model to send, and — when the
/// call came through a route — which route and deployment it is.
struct UpstreamTarget: Sendable {
    var credential: ProviderCredential
    /// The provider's model, substituted for the route alias in the upstream body.
    var model: String
    var routeID: UUID?
    /// e.g. `openai:gpt-4o-mini@default`; empty without a route.
    var deployment: String = ""
    /// Per-attempt timeout of the deployment.
    var timeout: Duration?
    /// Set for route deployments (health, cooldown, fallback); `nil` for the default path.
    var healthKey: DeploymentHealthTracker.Key?

    var viaRoute: Bool { routeID != nil }
}

/// The candidates for one call, in the order to try them.
struct UpstreamPlan: Sendable {
    /// The route the model named, if any.
    var route: RouteRecord?
    /// In order; route deployments that are cooling down are left out.
    var targets: [UpstreamTarget]
    /// When every deployment of the route is cooling down: the earliest end.
    var allCoolingUntil: Date?
}

/// Orders a route's deployments: by priority, then among equals weighted-random by weight
/// or by lowest recent latency (unknown latency first, so new deployments get measured).
enum RouteOrdering {
    static func order<G: RandomNumberGenerator>(
        _ deployments: [RouteDeploymentRecord], strategy: RouteStrategy, latency: (RouteDeploymentRecord) -> Double?,
        using generator: inout G
    ) -> [RouteDeploymentRecord] {
        let groups = Dictionary(grouping: deployments, by: \.priority).sorted { $0.key < $1.key }
        var result: [RouteDeploymentRecord] = []
        for (_, group) in groups {
            switch strategy {
            case .leastLatency:
                // Stable: equal latencies keep their stored order.
                let indexed = group.enumerated().map { ($0.offset, $0.element, latency($0.element) ?? -1) }
                result += indexed.sorted { ($0.2, $0.0) < ($1.2, $1.0) }.map(\.1)
            case .weighted:
                var remaining = group
                while !remaining.isEmpty {
                    let total = remaining.reduce(0) { $0 + max(1, $1.weight) }
                    var pick = Int.random(in: 0..<total, using: &generator)
                    var index = 0
                    for (i, deployment) in remaining.enumerated() {
                        pick -= max(1, deployment.weight)
                        if pick < 0 { index = i; break }
                    }
                    result.append(remaining.remove(at: index))
                }
            }
        }
        return result
    }
}

extension ChatCompletionRequestBody {
    /// ``upstreamBody()`` with every top-level `model` member's value replaced by `model`.
    func upstreamBody(model: String) -> [UInt8] {
        model == self.model ? upstreamBody() : ClientBodyFields.replacingModel(in: upstreamBody(), with: model)
    }
}
