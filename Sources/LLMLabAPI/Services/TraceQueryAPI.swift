import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTracing
import SwiftProtobuf

/// `llmlab.v1.TraceQueryService`: the caller's tenant's traces. Runs in tenant
/// transactions, so another tenant's trace id simply finds nothing (`notFound`). A
/// project-scoped key sees only its project: another project's trace is `notFound` too.
struct TraceQueryAPI: Llmlab_V1_TraceQueryService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    func listTraces(request: Llmlab_V1_ListTracesRequest, context: ServerContext) async throws -> Llmlab_V1_ListTracesResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let limit = try Validate.pageSize(request.pageSize)
        let cursor = try TraceCursor(token: request.pageToken, field: "page_token")
        let projects = try ProjectFilter(request.projectID, principal: principal)
        let filter = try Self.filter(request, projectID: projects.projectID)
        let logger = plane.logger
        let page = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await projects.check(on: connection, logger: logger)
            return try await SpanRepository(connection, logger: logger).listTraces(filter: filter, limit: limit, after: cursor)
        }
        return Llmlab_V1_ListTracesResponse.with {
            $0.traces = page.traces.map(Self.message)
            $0.nextPageToken = page.next?.token ?? ""
        }
    }

    func getTrace(request: Llmlab_V1_GetTraceRequest, context: ServerContext) async throws -> Llmlab_V1_GetTraceResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let traceID = try Self.traceID(request.traceID)
        let (summary, spans) = try await load(traceID, principal: principal, tenant: tenant)
        let tree = TraceTree(spans)
        return Llmlab_V1_GetTraceResponse.with {
            $0.summary = Self.message(summary)
            $0.spans = tree.nodes.map { Self.message($0.span, depth: $0.depth, tree: tree) }
        }
    }

    func explainTrace(request: Llmlab_V1_ExplainTraceRequest, context: ServerContext) async throws -> Llmlab_V1_ExplainTraceResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let traceID = try Self.traceID(request.traceID)
        let (_, spans) = try await load(traceID, principal: principal, tenant: tenant)
        let tree = TraceTree(spans)
        let explanation = TraceExplainer.explain(tree)
        func explained(_ span: NormalizedSpan) -> Llmlab_V1_ExplainedSpan { Self.explained(span, tree: tree) }
        return Llmlab_V1_ExplainTraceResponse.with {
            $0.traceID = traceID
            $0.hasError_p = explanation.hasError
            $0.failed = explanation.failed
            if let cause = explanation.rootCause {
                $0.rootCause = explained(cause)
                $0.errorFlags = cause.errorFlags.names
                $0.errorMessage = cause.errorMessage
            }
            $0.ancestors = explanation.ancestors.map(explained)
            if let llm = explanation.ledByLLMCall { $0.ledByLlmCall = explained(llm) }
            $0.retries = explanation.retries.map(explained)
            $0.fallbacks = explanation.fallbacks.map(explained)
            $0.tokenLimited = explanation.tokenLimited.map(explained)
            $0.summary = explanation.summary
            $0.evidence = explanation.evidence
        }
    }

    /// The trace's summary and spans, or `notFound` when the caller may not see it.
    private func load(_ traceID: String, principal: Principal, tenant: TenantRecord) async throws -> (TraceSummary, [NormalizedSpan]) {
        let logger = plane.logger
        let found = try await plane.database.withTenantTransaction(tenant.scope) { connection -> (TraceSummary, [NormalizedSpan])? in
            let repository = SpanRepository(connection, logger: logger)
            guard let summary = try await repository.summary(traceID: traceID), principal.mayAccess(project: summary.projectID) else {
                return nil
            }
            return (summary, try await repository.spans(traceID: traceID))
        }
        guard let found else { throw APIError.notFound("trace", traceID) }
        return found
    }

    // MARK: Validation

    /// 1-64 letters, digits, `-` or `_` (OTLP ids are 32 hex digits; hex is matched lowercase).
    static func traceID(_ value: String) throws -> String {
        guard !value.isEmpty else { throw ValidationError(field: "trace_id", reason: "is required") }
        let allowed = value.utf8.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard allowed, value.utf8.count <= 64 else {
            throw ValidationError(field: "trace_id", reason: "\"\(value.prefix(40))\" is not a trace id; trace ids are 32 hex digits, as `trace list` shows them")
        }
        let isHex = value.utf8.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
        return isHex ? value.lowercased() : value
    }

    static func filter(_ request: Llmlab_V1_ListTracesRequest, projectID: UUID?) throws -> TraceFilter {
        let since = request.hasSince ? request.since.date : nil
        let until = request.hasUntil ? request.until.date : nil
        if let since, let until, since >= until {
            throw ValidationError(field: "until", reason: "must be after since")
        }
        let status: TraceFilter.Status?
        switch request.status {
        case .unspecified: status = nil
        case .ok: status = .ok
        case .error: status = .error
        case .UNRECOGNIZED(let raw):
            throw ValidationError(field: "status", reason: "\(raw) is not a trace status; use TRACE_STATUS_OK or TRACE_STATUS_ERROR")
        }
        func optional(_ value: String, _ field: String, maxLength: Int = 200) throws -> String? {
            let text = try Validate.text(value, field: field, maxLength: maxLength)
            return text.isEmpty ? nil : text
        }
        guard request.minDurationMs >= 0, request.minDurationMs <= Int64.max / 1_000_000 else {
            throw ValidationError(field: "min_duration_ms", reason: "must be 0 or more milliseconds")
        }
        return TraceFilter(
            since: since, until: until, projectID: projectID, status: status,
            model: try optional(request.model, "model"), userID: try optional(request.userID, "user_id", maxLength: 500),
            sessionID: try optional(request.sessionID, "session_id", maxLength: 500),
            minCostUSD: try minCost(request.minCostUsd),
            minDurationNanos: request.minDurationMs > 0 ? request.minDurationMs * 1_000_000 : nil,
            nameContains: try optional(request.nameContains, "name_contains"))
    }

    /// A non-negative decimal with at most 12 fractional digits (the precision spans keep).
    static func minCost(_ text: String) throws -> String? {
        guard !text.isEmpty else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let isDigits = { (part: Substring) in !part.isEmpty && part.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
        guard parts.count <= 2, isDigits(parts[0]), parts.count == 1 || isDigits(parts[1]),
              parts[0].count <= 20, parts.count == 1 || parts[1].count <= 12
        else {
            throw ValidationError(field: "min_cost_usd", reason: "\"\(text.prefix(40))\" is not an amount; use a decimal number of US dollars, e.g. \"0.05\"")
        }
        return text
    }

    // MARK: Mapping

    static func message(_ summary: TraceSummary) -> Llmlab_V1_TraceSummary {
        Llmlab_V1_TraceSummary.with {
            $0.traceID = summary.traceID
            $0.projectID = summary.projectID.uuidString.lowercased()
            $0.rootName = summary.rootName
            $0.startTime = Google_Protobuf_Timestamp(date: summary.startTime)
            $0.durationUs = summary.durationNanos / 1_000
            $0.spanCount = Int32(clamping: summary.spanCount)
            $0.errorCount = Int32(clamping: summary.errorCount)
            $0.llmCallCount = Int32(clamping: summary.llmCallCount)
            // The store sums priced spans (0 when none); "" says nothing was priced.
            let priced = summary.llmCallCount - summary.costUnpricedSpans
            $0.totalCostUsd = priced <= 0 && Self.isZero(summary.costUSD) ? "" : summary.costUSD
            $0.unpricedSpanCount = Int32(clamping: summary.costUnpricedSpans)
            $0.tokens = tokens(summary.tokens)
            $0.userID = summary.userID
            $0.sessionID = summary.sessionID
            $0.models = summary.models
            $0.serviceName = summary.serviceName
            $0.status = summary.isError ? .error : .ok
        }
    }

    static func isZero(_ decimal: String) -> Bool {
        decimal.allSatisfy { $0 == "0" || $0 == "." }
    }

    static func tokens(_ usage: TokenUsage) -> Llmlab_V1_TokenCounts {
        Llmlab_V1_TokenCounts.with {
            $0.uncachedInputTokens = Int64(usage.uncachedInput)
            $0.cacheReadTokens = Int64(usage.cacheRead)
            $0.cacheWrite5MTokens = Int64(usage.cacheWrite5m)
            $0.cacheWrite1HTokens = Int64(usage.cacheWrite1h)
            $0.outputTokens = Int64(usage.output)
            $0.reasoningTokens = Int64(usage.reasoning)
        }
    }

    static func category(_ category: SpanCategory) -> Llmlab_V1_SpanCategory {
        switch category {
        case .llm: .llm
        case .tool: .tool
        case .agent: .agent
        case .chain: .chain
        case .retriever: .retriever
        case .embedding: .embedding
        case .other: .other
        }
    }

    static func micros(_ nanos: UInt64) -> Int64 { Int64(clamping: nanos / 1_000) }

    static func message(_ span: NormalizedSpan, depth: Int, tree: TraceTree) -> Llmlab_V1_Span {
        Llmlab_V1_Span.with {
            $0.traceID = span.traceID
            $0.spanID = span.spanID
            $0.parentSpanID = span.parentSpanID
            $0.projectID = span.projectID.uuidString.lowercased()
            $0.name = span.name
            $0.category = category(span.category)
            $0.startTime = Google_Protobuf_Timestamp(
                seconds: Int64(span.startTimeUnixNano / 1_000_000_000), nanos: Int32(span.startTimeUnixNano % 1_000_000_000))
            $0.durationUs = micros(span.durationNanos)
            $0.offsetUs = micros(tree.offsetNanos(of: span))
            $0.depth = Int32(clamping: depth)
            $0.isError = span.isError
            $0.errorFlags = span.errorFlags.names
            $0.errorMessage = span.errorMessage
            $0.provider = span.provider
            $0.requestModel = span.requestModel
            $0.responseModel = span.responseModel
            $0.tokens = tokens(span.tokens)
            $0.costUsd = span.costUSD ?? ""
            $0.reportedCostUsd = span.reportedCostUSD ?? ""
            $0.unpricedReason = span.unpricedReason
            $0.finishReason = span.finishReason
            $0.toolName = span.toolName
            $0.userID = span.userID
            $0.sessionID = span.sessionID
            $0.serviceName = span.serviceName
            $0.attributesJson = span.attributesJSON
            $0.eventsJson = span.eventsJSON
            $0.contentJson = span.contentJSON
        }
    }

    static func explained(_ span: NormalizedSpan, tree: TraceTree) -> Llmlab_V1_ExplainedSpan {
        Llmlab_V1_ExplainedSpan.with {
            $0.spanID = span.spanID
            $0.name = span.name
            $0.category = category(span.category)
            $0.offsetUs = micros(tree.offsetNanos(of: span))
            $0.durationUs = micros(span.durationNanos)
            $0.isError = span.isError
            $0.errorMessage = span.errorMessage
            $0.model = span.responseModel.isEmpty ? span.requestModel : span.responseModel
            $0.provider = span.provider
            $0.toolName = span.toolName
        }
    }
}
