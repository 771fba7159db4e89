import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.AuditService`: the caller's tenant log, or the control log for the operator.
struct AuditAPI: Llmlab_V1_AuditService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    /// Runs `body` against the log the caller may read.
    private func withLog<R: Sendable>(_ body: @escaping @Sendable (AuditLogRepository) async throws -> R) async throws -> R {
        let call = try CallContext.require()
        let principal = try call.requirePrincipal()
        let logger = plane.logger
        if principal.kind == .operator {
            return try await plane.database.withControlTransaction { connection in
                try await body(AuditLogRepository(connection, log: .control, logger: logger))
            }
        }
        let (_, tenant) = try call.requireTenant()
        return try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await body(AuditLogRepository(connection, log: .tenant(tenant.scope), logger: logger))
        }
    }

    func listAuditEvents(request: Llmlab_V1_ListAuditEventsRequest, context: ServerContext) async throws -> Llmlab_V1_ListAuditEventsResponse {
        let limit = try Validate.pageSize(request.pageSize)
        var before: Int64?
        if let parts = try PageCursor.decode(request.pageToken, expectedCount: 1) {
            guard let sequence = Int64(parts[0]) else {
                throw ValidationError(field: "page_token", reason: "is not a token this server issued")
            }
            before = sequence
        }
        let actor = try Validate.text(request.actor, field: "actor", maxLength: 200)
        let action = try Validate.text(request.action, field: "action", maxLength: 200)
        let since = request.hasSince ? request.since.date : nil
        let until = request.hasUntil ? request.until.date : nil
        if let since, let until, since >= until {
            throw ValidationError(field: "until", reason: "must be after since")
        }
        let query = AuditQuery(actor: actor.isEmpty ? nil : actor, action: action.isEmpty ? nil : action,
                               since: since, until: until, beforeSequence: before, limit: limit + 1)
        let events = try await withLog { try await $0.list(query) }
        let page = Page(events, limit: limit) { PageCursor.encode([String($0.sequence)]) }
        return Llmlab_V1_ListAuditEventsResponse.with {
            $0.events = page.rows.map(MessageMapping.auditEvent)
            $0.nextPageToken = page.nextToken
        }
    }

    /// Walks the whole chain in chunks, carrying the last hash from chunk to chunk.
    func verifyAuditChain(request: Llmlab_V1_VerifyAuditChainRequest, context: ServerContext) async throws -> Llmlab_V1_VerifyAuditChainResponse {
        let chunk = 1000
        return try await withLog { log in
            var previousHash = AuditRecord.genesisHash
            var lastSequence: Int64 = 0
            var checked: Int64 = 0
            while true {
                let rows = try await log.rows(afterSequence: lastSequence, limit: chunk)
                if rows.isEmpty { break }
                switch AuditChain.verify(rows, startingAfter: previousHash, firstSequence: lastSequence + 1) {
                case .intact(let count):
                    checked += Int64(count)
                case .broken(let sequence, let reason):
                    return Llmlab_V1_VerifyAuditChainResponse.with {
                        $0.ok = false
                        $0.rowsChecked = checked + max(0, sequence - lastSequence - 1)
                        $0.firstBrokenSequence = sequence
                        $0.reason = reason
                    }
                }
                previousHash = rows[rows.count - 1].hash
                lastSequence = rows[rows.count - 1].sequence
                if rows.count < chunk { break }
            }
            return Llmlab_V1_VerifyAuditChainResponse.with {
                $0.ok = true
                $0.rowsChecked = checked
            }
        }
    }
}
