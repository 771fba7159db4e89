public import Foundation
import LLMLabCore

/// A span as the span writer's spool stores it (one JSON line): the ``NormalizedSpan`` and
/// the tenant whose schema it belongs to. Exact nanosecond times and decimal costs are kept
/// as they are, so a replay writes exactly what a direct write would have.
public struct SpooledSpan: Sendable, Hashable, Codable {
    public var tenantID: UUID
    var traceID: String
    var spanID: String
    var parentSpanID: String
    var projectID: UUID
    var name: String
    var category: String
    var startTimeUnixNano: UInt64
    var endTimeUnixNano: UInt64
    var isError: Bool
    var errorFlags: Int
    var errorMessage: String
    var provider: String
    var requestModel: String
    var responseModel: String
    var tokens: TokenUsage
    var costUSD: String?
    var unpricedReason: String
    var reportedCostUSD: String?
    var finishReason: String
    var userID: String
    var sessionID: String
    var serviceName: String
    var toolName: String
    var attributesJSON: String
    var eventsJSON: String
    var contentJSON: String

    public init(_ span: NormalizedSpan, tenantID: UUID) {
        self.tenantID = tenantID
        self.traceID = span.traceID
        self.spanID = span.spanID
        self.parentSpanID = span.parentSpanID
        self.projectID = span.projectID
        self.name = span.name
        self.category = span.category.rawValue
        self.startTimeUnixNano = span.startTimeUnixNano
        self.endTimeUnixNano = span.endTimeUnixNano
        self.isError = span.isError
        self.errorFlags = span.errorFlags.rawValue
        self.errorMessage = span.errorMessage
        self.provider = span.provider
        self.requestModel = span.requestModel
        self.responseModel = span.responseModel
        self.tokens = span.tokens
        self.costUSD = span.costUSD
        self.unpricedReason = span.unpricedReason
        self.reportedCostUSD = span.reportedCostUSD
        self.finishReason = span.finishReason
        self.userID = span.userID
        self.sessionID = span.sessionID
        self.serviceName = span.serviceName
        self.toolName = span.toolName
        self.attributesJSON = span.attributesJSON
        self.eventsJSON = span.eventsJSON
        self.contentJSON = span.contentJSON
    }

    public var span: NormalizedSpan {
        NormalizedSpan(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, projectID: projectID, name: name,
                       category: SpanCategory(rawValue: category) ?? .other, startTimeUnixNano: startTimeUnixNano,
                       endTimeUnixNano: endTimeUnixNano, isError: isError, errorFlags: SpanErrorFlags(rawValue: errorFlags),
                       errorMessage: errorMessage, provider: provider, requestModel: requestModel,
                       responseModel: responseModel, tokens: tokens, costUSD: costUSD, unpricedReason: unpricedReason,
                       reportedCostUSD: reportedCostUSD, finishReason: finishReason, userID: userID, sessionID: sessionID,
                       serviceName: serviceName, toolName: toolName, attributesJSON: attributesJSON,
                       eventsJSON: eventsJSON, contentJSON: contentJSON)
    }
}
