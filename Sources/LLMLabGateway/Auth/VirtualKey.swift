public import Foundation
public import LLMLabCore
public import LLMLabStore

/// An authenticated proxy caller: a tenant API key (`llk_…`) with the `proxy` scope and a
/// project. Everything the proxy needs to pick and open a provider key without another
/// control-schema lookup.
public struct VirtualKey: Sendable, Hashable {
    public var keyID: UUID
    public var keyName: String
    public var tenantID: UUID
    public var tenantSlug: String
    public var projectID: UUID
    public var role: Role
    public var scopes: Set<String>
    /// The key's own monthly budget and rate limits (read on every authentication).
    public var limits: ApiKeyLimits = ApiKeyLimits()
    /// The tenant's data key, wrapped by the master key; opened only when a provider key is needed.
    var wrappedDataKey: Data

    public var tenantScope: TenantScope { TenantScope(tenantID: tenantID) }
}
