import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf

/// `llmlab.v1.UsageService`: the caller's tenant's usage events, newest first. A
/// project-scoped key sees only its project; a project id the caller may not see (another
/// tenant's, or another project for a scoped key) is `notFound`, never an empty page.
struct UsageAPI: Llmlab_V1_UsageService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    func listUsageEvents(request: Llmlab_V1_ListUsageEventsRequest, context: ServerContext) async throws -> Llmlab_V1_ListUsageEventsResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let limit = try Validate.pageSize(request.pageSize)
        var before: (micros: Int64, requestID: String)?
        if let parts = try PageCursor.decode(request.pageToken, expectedCount: 2) {
            guard let micros = Int64(parts[0]), !parts[1].isEmpty else {
                throw ValidationError(field: "page_token", reason: "is not a token this server issued")
            }
            before = (micros, parts[1])
        }
        let since = request.hasSince ? request.since.date : nil
        let until = request.hasUntil ? request.until.date : nil
        if let since, let until, since >= until {
            throw ValidationError(field: "until", reason: "must be after since")
        }
        let filter = try ProjectFilter(request.projectID, principal: principal)
        let apiKeyID = request.apiKeyID.isEmpty ? nil : try Validate.id(request.apiKeyID, field: "api_key_id")
        let model = try Validate.text(request.model, field: "model", maxLength: 200)
        let statusClass: Int?
        switch request.statusClass.lowercased() {
        case "": statusClass = nil
        case "2", "2xx": statusClass = 2
        case "3", "3xx": statusClass = 3
        case "4", "4xx": statusClass = 4
        case "5", "5xx": statusClass = 5
        default:
            throw ValidationError(field: "status_class", reason: "\"\(request.statusClass.prefix(40))\" is not a status class; use 2xx, 3xx, 4xx or 5xx")
        }
        let query = UsageQuery(since: since, until: until, projectID: filter.projectID, apiKeyID: apiKeyID,
                               model: model.isEmpty ? nil : model, statusClass: statusClass, before: before, limit: limit + 1)
        let logger = plane.logger
        let tenantID = tenant.id
        let events = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await filter.check(on: connection, logger: logger)
            return try await UsageEventRepository(connection, logger: logger).list(query, tenantID: tenantID)
        }
        let page = Page(events, limit: limit) {
            PageCursor.encode([String(UsageEventRepository.micros($0.occurredAt)), $0.requestID])
        }
        return Llmlab_V1_ListUsageEventsResponse.with {
            $0.events = page.rows.map(Self.message)
            $0.nextPageToken = page.nextToken
        }
    }

    static func message(_ event: UsageEventRecord) -> Llmlab_V1_UsageEvent {
        Llmlab_V1_UsageEvent.with {
            $0.requestID = event.requestID
            $0.occurredAt = Google_Protobuf_Timestamp(date: event.occurredAt)
            $0.projectID = event.projectID.uuidString.lowercased()
            $0.apiKeyID = event.apiKeyID.uuidString.lowercased()
            $0.routeID = event.routeID?.uuidString.lowercased() ?? ""
            $0.deployment = event.deployment
            $0.provider = event.provider
            $0.model = event.model
            $0.responseModel = event.responseModel
            $0.inputTokens = event.inputTokens
            $0.cachedInputTokens = event.cachedInputTokens
            $0.cacheWrite5MTokens = event.cacheWrite5mTokens
            $0.cacheWrite1HTokens = event.cacheWrite1hTokens
            $0.outputTokens = event.outputTokens
            $0.reasoningTokens = event.reasoningTokens
            $0.costUsd = event.costUSD ?? ""
            $0.priced = event.priced
            $0.unpricedReason = event.unpricedReason
            $0.latencyMs = event.latencyMs
            $0.ttftMs = event.ttftMs ?? 0
            $0.status = event.status
            $0.errorClass = event.errorClass
            $0.traceparent = event.traceparent
            $0.streamed = event.streamed
            $0.cacheHit = event.cacheHit
        }
    }
}
