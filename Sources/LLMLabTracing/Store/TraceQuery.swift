public import Foundation
public import LLMLabCore

/// What `ListTraces` can ask for. Every field is optional; they combine with AND. Times are
/// the trace's start (its earliest span).
public struct TraceFilter: Sendable, Hashable {
    /// Whether a trace had any failing span.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case ok, error
    }

    /// Inclusive lower bound on the trace's start.
    public var since: Date?
    /// Exclusive upper bound on the trace's start.
    public var until: Date?
    public var projectID: UUID?
    public var status: Status?
    /// Any span's request or response model equals this.
    public var model: String?
    public var userID: String?
    public var sessionID: String?
    /// Decimal USD text ("0.05"); traces costing at least this much.
    public var minCostUSD: String?
    /// Traces lasting at least this many nanoseconds.
    public var minDurationNanos: Int64?
    /// Case-insensitive substring of the root span's name (`%` and `_` match themselves).
    public var nameContains: String?

    public init(since: Date? = nil, until: Date? = nil, projectID: UUID? = nil, status: Status? = nil, model: String? = nil,
                userID: String? = nil, sessionID: String? = nil, minCostUSD: String? = nil, minDurationNanos: Int64? = nil,
                nameContains: String? = nil) {
        self.since = since
        self.until = until
        self.projectID = projectID
        self.status = status
        self.model = model
        self.userID = userID
        self.sessionID = sessionID
        self.minCostUSD = minCostUSD
        self.minDurationNanos = minDurationNanos
        self.nameContains = nameContains
    }
}

/// Where the next page of `ListTraces` starts: the sort key (start time desc, trace id desc)
/// of the last trace returned. Opaque to clients through ``token`` / ``init(token:)``.
public struct TraceCursor: Sendable, Hashable {
    /// The last trace's start, in microseconds since 1970 (PostgreSQL's precision).
    public var startMicros: Int64
    public var traceID: String

    public init(startMicros: Int64, traceID: String) {
        self.startMicros = startMicros
        self.traceID = traceID
    }

    /// The cursor after `summary`.
    public init(after summary: TraceSummary) {
        self.init(startMicros: summary.startMicros, traceID: summary.traceID)
    }

    /// The page token a client passes back.
    public var token: String { PageCursor.encode([String(startMicros), traceID]) }

    /// Decodes a page token; `nil` for the empty token (first page). Throws a
    /// `ValidationError` naming `field` for anything this server did not issue.
    public init?(token: String, field: String = "page_token") throws {
        guard let parts = try PageCursor.decode(token, expectedCount: 2, field: field) else { return nil }
        guard let micros = Int64(parts[0]), !parts[1].isEmpty else {
            throw ValidationError(field: field, reason: "is not a token this server issued; pass next_page_token from the previous response unchanged")
        }
        self.init(startMicros: micros, traceID: parts[1])
    }
}

/// One row of `traces`: what a trace list shows without reading its spans.
public struct TraceSummary: Sendable, Hashable {
    public var traceID: String
    public var projectID: UUID
    /// The span without a parent, else the earliest span (the root may not have arrived yet).
    public var rootSpanID: String
    public var rootName: String
    /// Whether ``rootSpanID`` really has no parent (false while the root is missing).
    public var hasRoot: Bool
    public var startTime: Date
    public var endTime: Date
    /// Start in microseconds since 1970, exactly as stored (cursor key).
    public var startMicros: Int64
    public var durationNanos: Int64
    public var spanCount: Int
    public var errorCount: Int
    public var llmCallCount: Int
    /// Sum of the priced spans' exact cost (decimal text, trailing zeros trimmed).
    public var costUSD: String
    /// Spans with no price (their cost is not in ``costUSD``).
    public var costUnpricedSpans: Int
    public var tokens: TokenUsage
    public var userID: String
    public var sessionID: String
    /// Every request and response model used in the trace, sorted.
    public var models: [String]
    public var serviceName: String
    public var updatedAt: Date

    public var isError: Bool { errorCount > 0 }
}

/// One page of ``TraceSummary``s and the cursor for the next page (`nil` on the last page).
public struct TracePage: Sendable, Hashable {
    public var traces: [TraceSummary]
    public var next: TraceCursor?

    public init(traces: [TraceSummary], next: TraceCursor?) {
        self.traces = traces
        self.next = next
    }
}

