public import Foundation
public import LLMLabCore

/// How the proxy chooses among a route's deployments of equal priority. Raw values are the
/// stored spellings.
public enum RouteStrategy: String, Sendable, Hashable, CaseIterable {
    /// At random, in proportion to each deployment's weight.
    case weighted
    /// The deployment with the lowest recent median latency.
    case leastLatency = "least_latency"
}

/// One upstream target of a route: which provider key sends which model, with its share
/// of traffic and its place in the fallback order.
public struct RouteDeploymentRecord: Sendable, Hashable {
    public var id: UUID
    public var provider: Provider
    /// The provider's model id, or the Azure OpenAI deployment name.
    public var model: String
    public var providerKeyID: UUID
    /// 1-1000: share of traffic among deployments of equal priority.
    public var weight: Int
    /// 0 is tried first; lower before higher.
    public var priority: Int
    /// Per-attempt timeout; `nil` means the proxy's default.
    public var timeoutMilliseconds: Int?

    public init(id: UUID = UUID(), provider: Provider, model: String, providerKeyID: UUID, weight: Int = 1,
                priority: Int = 0, timeoutMilliseconds: Int? = nil) {
        self.id = id
        self.provider = provider
        self.model = model
        self.providerKeyID = providerKeyID
        self.weight = weight
        self.priority = priority
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// What makes two deployments of a route the same upstream target; unique per route.
    public var target: DeploymentTarget {
        DeploymentTarget(provider: provider, model: model, providerKeyID: providerKeyID)
    }
}

/// The identity of an upstream target inside a route: (provider, model, provider key).
public struct DeploymentTarget: Sendable, Hashable {
    public var provider: Provider
    public var model: String
    public var providerKeyID: UUID

    public init(provider: Provider, model: String, providerKeyID: UUID) {
        self.provider = provider
        self.model = model
        self.providerKeyID = providerKeyID
    }
}

/// A project's model alias and the deployments it routes to, in the order they were set.
public struct RouteRecord: Sendable, Hashable {
    public var id: UUID
    public var projectID: UUID
    public var alias: String
    public var strategy: RouteStrategy
    public var deployments: [RouteDeploymentRecord]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, projectID: UUID, alias: String, strategy: RouteStrategy, deployments: [RouteDeploymentRecord],
                createdAt: Date, updatedAt: Date) {
        self.id = id
        self.projectID = projectID
        self.alias = alias
        self.strategy = strategy
        self.deployments = deployments
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Just enough about a route to name it in a message ("used by route …").
public struct RouteReference: Sendable, Hashable {
    public var id: UUID
    public var projectID: UUID
    public var alias: String
}
