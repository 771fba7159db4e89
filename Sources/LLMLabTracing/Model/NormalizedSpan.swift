public import Foundation
public import LLMLabCore

/// What a span is, whatever convention described it (OpenTelemetry GenAI, OpenInference,
/// Pydantic AI, our SDK).
public enum SpanCategory: String, Sendable, Hashable, CaseIterable, Codable {
    case llm, tool, agent, chain, retriever, embedding, other
}

/// Why a span failed, as far as its attributes and events tell.
public struct SpanErrorFlags: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The provider answered with an error (HTTP status ≥ 400, `error.type`).
    public static let apiError = SpanErrorFlags(rawValue: 1 << 0)
    /// The model stopped at its token limit (finish reason `length` / `max_tokens`).
    public static let tokenLimit = SpanErrorFlags(rawValue: 1 << 1)
    /// A tool span failed.
    public static let toolError = SpanErrorFlags(rawValue: 1 << 2)
    /// A timeout (error type or message says so).
    public static let timeout = SpanErrorFlags(rawValue: 1 << 3)
    /// An `exception` event was recorded.
    public static let exception = SpanErrorFlags(rawValue: 1 << 4)
}

/// One span as LLMLab stores and queries it, in a tenant's schema.
public struct NormalizedSpan: Sendable, Hashable {
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String
    public var projectID: UUID
    public var name: String
    public var category: SpanCategory
    public var startTime: Date
    public var endTime: Date
    /// Exact nanosecond times (Date loses precision).
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    /// The span's status is error, or any error flag other than ``SpanErrorFlags/tokenLimit`` is set.
    public var isError: Bool
    public var errorFlags: SpanErrorFlags
    /// The status message, the exception message or the provider's error, whichever says most.
    public var errorMessage: String
    /// `gen_ai.provider.name` / `gen_ai.system` / `llm.provider`, as our ``Provider`` when known.
    public var provider: String
    public var requestModel: String
    public var responseModel: String
    public var tokens: TokenUsage
    /// Our exact cost from the price catalog (decimal text), `nil` when unpriced.
    public var costUSD: String?
    /// Why the span is unpriced (LLM spans only); empty otherwise.
    public var unpricedReason: String
    /// A cost the span carried itself (e.g. `llm.cost.total`, `gen_ai.usage.cost`), kept beside ours.
    public var reportedCostUSD: String?
    public var finishReason: String
    public var userID: String
    public var sessionID: String
    public var serviceName: String
    /// `gen_ai.tool.name` or the like, for tool spans.
    public var toolName: String
    /// Attributes worth keeping (JSON object text), without message content unless the
    /// project captures content.
    public var attributesJSON: String
    /// Events (JSON array text), content-filtered like attributes.
    public var eventsJSON: String
    /// Prompt, completion, tool arguments and results (JSON text), only when the project
    /// enables content capture; empty otherwise.
    public var contentJSON: String

    public var durationNanos: UInt64 { endTimeUnixNano >= startTimeUnixNano ? endTimeUnixNano - startTimeUnixNano : 0 }

    public init(traceID: String, spanID: String, parentSpanID: String, projectID: UUID, name: String, category: SpanCategory,
                startTimeUnixNano: UInt64, endTimeUnixNano: UInt64, isError: Bool = false, errorFlags: SpanErrorFlags = [],
                errorMessage: String = "", provider: String = "", requestModel: String = "", responseModel: String = "",
                tokens: TokenUsage = .zero, costUSD: String? = nil, unpricedReason: String = "", reportedCostUSD: String? = nil,
                finishReason: String = "", userID: String = "", sessionID: String = "", serviceName: String = "",
                toolName: String = "", attributesJSON: String = "{}", eventsJSON: String = "[]", contentJSON: String = "") {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.projectID = projectID
        self.name = name
        self.category = category
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.startTime = Date(timeIntervalSince1970: Double(startTimeUnixNano) / 1e9)
        self.endTime = Date(timeIntervalSince1970: Double(endTimeUnixNano) / 1e9)
        self.isError = isError
        self.errorFlags = errorFlags
        self.errorMessage = errorMessage
        self.provider = provider
        self.requestModel = requestModel
        self.responseModel = responseModel
        self.tokens = tokens
        self.costUSD = costUSD
        self.unpricedReason = unpricedReason
        self.reportedCostUSD = reportedCostUSD
        self.finishReason = finishReason
        self.userID = userID
        self.sessionID = sessionID
        self.serviceName = serviceName
        self.toolName = toolName
        self.attributesJSON = attributesJSON
        self.eventsJSON = eventsJSON
        self.contentJSON = contentJSON
    }
}
