public import LLMLabStore

/// Told about every proxied call once it is metered, e.g. to record it as an LLM span in
/// the tenant's traces (joining the client's trace when it sent `traceparent`). The server
/// composes it; the gateway does not depend on the tracing module.
public protocol ProxyCallObserver: Sendable {
    /// Called on the request path right after the usage event is queued: must not block
    /// or wait on I/O (queue the work).
    func proxied(_ event: UsageEventRecord)
}
