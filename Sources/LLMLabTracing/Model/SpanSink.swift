public import Foundation

/// Where decoded, mapped spans go: the span writer (batched, spooled when PostgreSQL is
/// unreachable). An extension point so ingest endpoints are tested without a database.
public protocol SpanSink: Sendable {
    /// Accepts spans for durable storage. Returns once they are durable — written to the
    /// database or to the local spool — so the exporter's success means what it says.
    /// Throws ``IngestError`` with `.overloaded` when the queue is full (the endpoints
    /// answer 429/503 with `Retry-After` / gRPC UNAVAILABLE).
    func accept(_ spans: [NormalizedSpan], tenant: TenantIngest) async throws
}

/// Who sent the spans: the API key's tenant and project, and the project's settings.
public struct TenantIngest: Sendable, Hashable {
    public var tenantID: UUID
    public var projectID: UUID
    /// The project stores prompts, completions and tool arguments.
    public var captureContent: Bool

    public init(tenantID: UUID, projectID: UUID, captureContent: Bool) {
        self.tenantID = tenantID
        self.projectID = projectID
        self.captureContent = captureContent
    }
}

/// An ingest failure the endpoints translate into their protocol's terms.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable { case invalid, overloaded, unavailable }
    public var code: Code
    public var message: String
    /// Seconds the client should wait (overloaded/unavailable).
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { message }
}
