public import Foundation

/// Receives OTLP/HTTP trace exports arriving at the gateway's `POST /v1/traces`. The
/// tracing module implements it (decode, map, store); the server composes the two, so the
/// gateway does not depend on the tracing module.
public protocol TraceExportReceiver: Sendable {
    /// Handles one export request body for the key's tenant and project and returns the
    /// OTLP response to send (its status, content type and body, already in the request's
    /// encoding). Never throws for bad input: that is a 4xx reply.
    func export(_ body: [UInt8], contentType: String, contentEncoding: String?, tenantID: UUID, projectID: UUID) async -> TraceExportReply
}

/// The gateway's answer to an OTLP/HTTP export.
public struct TraceExportReply: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Seconds for `Retry-After` (429/503 when the ingest queue is full).
    public var retryAfterSeconds: Int?

    public init(status: Int, contentType: String, body: [UInt8], retryAfterSeconds: Int? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.retryAfterSeconds = retryAfterSeconds
    }
}
