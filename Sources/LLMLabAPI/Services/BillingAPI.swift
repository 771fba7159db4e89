import Foundation
import GRPCCore
import LLMLabBilling
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import Logging
import PostgresNIO
import SwiftProtobuf

/// `llmlab.v1.BillingService`: billing connections (credentials sealed with the tenant's
/// data key, bound to tenant and connection id, never returned), syncs, CSV imports and the
/// reconciliation of billed against tracked cost. Mutations are audited in the transaction
/// that makes them.
struct BillingAPI: Llmlab_V1_BillingService.SimpleServiceProtocol {
    let plane: ControlPlane
    let sync: BillingSync

    init(_ plane: ControlPlane, http: BillingHTTPClient = BillingHTTPClient(configuration: .interactive)) {
        self.plane = plane
        self.sync = BillingSync(database: plane.database, keyVault: plane.keyVault, http: http, logger: plane.logger,
                                allowCustomEndpoints: plane.configuration.allowCustomBillingEndpoints)
    }

    /// Days a sync without a range re-pulls (providers revise recent days).
    static let defaultSyncDays = 3

    func createConnection(request: Llmlab_V1_CreateBillingConnectionRequest, context: ServerContext) async throws -> Llmlab_V1_CreateBillingConnectionResponse {
        let tenant = try Self.requireTenantWide()
        let kind = try BillingValidation.kind(request.kind)
        let name = try Validate.name(request.name, field: "name")
        let credential = try BillingValidation.credential(request.credential)
        let settings = try BillingValidation.settings(request.settings, kind: kind, allowCustomEndpoints: plane.configuration.allowCustomBillingEndpoints)
        let schedule = try BillingValidation.schedule(request.schedule)
        let id = UUID()
        let dataKey = try plane.keyVault.unwrap([UInt8](tenant.wrappedDataKey), tenantID: tenant.id.uuidString.lowercased())
        let sealed = try dataKey.seal(credential, associatedData: BillingSync.associatedData(tenantID: tenant.id, connectionID: id))
        let logger = plane.logger
        let auditor = plane.auditor
        let record: BillingConnectionRecord
        do {
            record = try await plane.database.withTenantTransaction(tenant.scope) { connection in
                let stored = try await BillingRepository(connection, logger: logger).insertConnection(BillingConnectionRecord(
                    id: id, kind: kind.rawValue, name: name, sealedCredential: Data(sealed), credentialLastFour: String(credential.suffix(4)),
                    settings: settings, schedule: schedule))
                var detail = ["name": name, "kind": kind.rawValue, "schedule": schedule, "event": "created"]
                for (key, value) in settings { detail["setting." + key] = value }
                try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "billing_connection:\(id.uuidString.lowercased())",
                                         detail: detail)
                return stored
            }
        } catch where isUniqueViolation(error) {
            throw APIError(.alreadyExists, "name: a billing connection named \"\(name)\" already exists")
        }
        return .with { $0.connection = BillingMapping.connection(record) }
    }

    func listConnections(request: Llmlab_V1_ListBillingConnectionsRequest, context: ServerContext) async throws -> Llmlab_V1_ListBillingConnectionsResponse {
        let tenant = try Self.requireTenantWide()
        let logger = plane.logger
        let records = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await BillingRepository(connection, logger: logger).listConnections()
        }
        return .with { $0.connections = records.map(BillingMapping.connection) }
    }

    func updateConnection(request: Llmlab_V1_UpdateBillingConnectionRequest, context: ServerContext) async throws -> Llmlab_V1_UpdateBillingConnectionResponse {
        let tenant = try Self.requireTenantWide()
        let id = try Validate.id(request.id, field: "id")
        let credential = request.credential.isEmpty ? nil : try BillingValidation.credential(request.credential)
        let schedule = request.schedule == .unspecified ? nil : try BillingValidation.schedule(request.schedule)
        let disabled = request.hasDisabled ? request.disabled : nil
        if !request.replaceSettings, !request.settings.isEmpty {
            throw APIError(.invalidArgument, "replace_settings: set it to replace the connection's settings with the ones sent")
        }
        let sealed: Data? = try credential.map { credential in
            let dataKey = try plane.keyVault.unwrap([UInt8](tenant.wrappedDataKey), tenantID: tenant.id.uuidString.lowercased())
            return Data(try dataKey.seal(credential, associatedData: BillingSync.associatedData(tenantID: tenant.id, connectionID: id)))
        }
        let logger = plane.logger
        let auditor = plane.auditor
        let replaceSettings = request.replaceSettings
        let requestedSettings = request.settings
        let record = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let billing = BillingRepository(connection, logger: logger)
            guard let current = try await billing.findConnection(id: id) else { throw APIError.notFound("billing connection", request.id) }
            var settings: [String: String]?
            if replaceSettings {
                guard let kind = BillingConnectionKind(rawValue: current.kind) else {
                    throw APIError(.failedPrecondition, "the connection's kind \(current.kind) is unknown to this server")
                }
                settings = try BillingValidation.settings(requestedSettings, kind: kind, allowCustomEndpoints: plane.configuration.allowCustomBillingEndpoints)
            }
            guard let updated = try await billing.updateConnection(
                id: id, sealedCredential: sealed, credentialLastFour: credential.map { String($0.suffix(4)) }, schedule: schedule,
                disabled: disabled, settings: settings, now: Date())
            else { throw APIError.notFound("billing connection", request.id) }
            var detail = ["name": current.name, "event": "updated"]
            if credential != nil { detail["credential"] = "rotated" }
            if let schedule { detail["schedule"] = schedule }
            if let disabled { detail["disabled"] = String(disabled) }
            if let settings { for (key, value) in settings { detail["setting." + key] = value } }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "billing_connection:\(id.uuidString.lowercased())",
                                     detail: detail)
            return updated
        }
        return .with { $0.connection = BillingMapping.connection(record) }
    }

    func deleteConnection(request: Llmlab_V1_DeleteBillingConnectionRequest, context: ServerContext) async throws -> Llmlab_V1_DeleteBillingConnectionResponse {
        let tenant = try Self.requireTenantWide()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let billing = BillingRepository(connection, logger: logger)
            guard let record = try await billing.findConnection(id: id) else { throw APIError.notFound("billing connection", request.id) }
            try await billing.deleteConnection(id: id)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "billing_connection:\(id.uuidString.lowercased())",
                                     detail: ["name": record.name, "kind": record.kind, "event": "deleted"])
        }
        return .init()
    }

    func syncConnection(request: Llmlab_V1_SyncBillingConnectionRequest, context: ServerContext) async throws -> Llmlab_V1_SyncBillingConnectionResponse {
        let tenant = try Self.requireTenantWide()
        let id = try Validate.id(request.id, field: "id")
        let period = try BillingValidation.period(from: request.fromDate, to: request.toDate, defaultDays: Self.defaultSyncDays)
        let logger = plane.logger
        let record = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await BillingRepository(connection, logger: logger).findConnection(id: id)
        }
        guard let record else { throw APIError.notFound("billing connection", request.id) }
        let outcome: BillingSync.Outcome
        do {
            outcome = try await sync.run(tenant: tenant, connection: record, period: period, trigger: "manual",
                                         actor: CallContext.current?.principal?.actor)
        } catch let error as BillingError {
            throw Self.rpcError(error)
        }
        return .with {
            $0.runID = outcome.runID.uuidString.lowercased()
            $0.fromDate = outcome.period.first.description
            $0.toDate = outcome.period.last.description
            $0.lines = Int32(clamping: outcome.lines)
            $0.totalUsd = outcome.totalUSD
        }
    }

    func importBillingCSV(request: Llmlab_V1_ImportBillingCSVRequest, context: ServerContext) async throws -> Llmlab_V1_ImportBillingCSVResponse {
        let tenant = try Self.requireTenantWide()
        let format: String
        switch request.format {
        case .generic: format = "generic"
        case .gcpBigquery: format = "gcp_bigquery"
        default: throw APIError(.invalidArgument, "format: send BILLING_IMPORT_FORMAT_GENERIC or BILLING_IMPORT_FORMAT_GCP_BIGQUERY")
        }
        guard !request.content.isEmpty else { throw APIError(.invalidArgument, "content: required (the CSV file's bytes)") }
        guard request.content.count <= BillingValidation.maximumImportBytes else {
            throw APIError(.invalidArgument, "content: at most 16 MiB; split the file by month")
        }
        let bytes = [UInt8](request.content)
        let lines: [BilledLine]
        do {
            lines = format == "generic" ? try GenericBillingCSV.parse(bytes) : try GCPBillingCSV.parse(bytes)
        } catch {
            throw APIError(.invalidArgument, "content: \(error.message)")
        }
        let days = lines.map(\.day)
        let first = days.min(), last = days.max()
        let total = DecimalText.sum(lines.map(\.amountUSD))
        let records = lines.map {
            BilledCostRecord(provider: $0.provider, day: $0.day.description, model: $0.model, lineItem: $0.lineItem,
                             amountUSD: $0.amountUSD, currency: $0.currency)
        }
        let runID = UUID()
        let source = "import:\(format)"
        let started = Date()
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let billing = BillingRepository(connection, logger: logger)
            try await billing.replaceDays(source: source, lines: records)
            if let first, let last {
                try await billing.insertRun(BillingSyncRunRecord(
                    id: runID, connectionID: nil, source: source, trigger: "import", firstDay: first.description, lastDay: last.description,
                    startedAt: started, status: "succeeded", lines: records.count, totalUSD: total, error: ""))
            }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "billing_import:\(runID.uuidString.lowercased())",
                                     detail: ["event": "imported", "format": format, "lines": String(records.count), "total_usd": total,
                                              "from": first?.description ?? "", "to": last?.description ?? ""])
        }
        return .with {
            $0.runID = runID.uuidString.lowercased()
            $0.lines = Int32(clamping: records.count)
            $0.totalUsd = total
            $0.fromDate = first?.description ?? ""
            $0.toDate = last?.description ?? ""
        }
    }

    func getReconciliation(request: Llmlab_V1_GetReconciliationRequest, context: ServerContext) async throws -> Llmlab_V1_GetReconciliationResponse {
        let tenant = try Self.requireTenantWide()
        let period = try BillingValidation.period(from: request.fromDate, to: request.toDate)
        let provider = try BillingValidation.provider(request.provider)
        let threshold = try ReconciliationThreshold.parse(percent: request.thresholdPercent, minimumUSD: request.minimumDifferenceUsd)
        let logger = plane.logger
        let (tracked, billed) = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let billing = BillingRepository(connection, logger: logger)
            let tracked = try await billing.tracked(firstDay: period.first.description, lastDay: period.last.description, provider: provider)
            let billed = try await billing.billed(firstDay: period.first.description, lastDay: period.last.description, provider: provider)
            return (tracked, billed)
        }
        let reconciliation = Reconciliation.compute(
            tracked: tracked.compactMap { record in
                BillingDay.parse(record.day).map { TrackedCost(provider: record.provider, day: $0, model: record.model, amountUSD: record.amountUSD) }
            },
            billed: billed.compactMap { record in
                BillingDay.parse(record.day).map {
                    BilledLine(provider: record.provider, day: $0, model: record.model, lineItem: record.lineItem,
                               amountUSD: record.amountUSD, currency: record.currency)
                }
            },
            threshold: threshold)
        return .with {
            $0.rows = reconciliation.rows.map(BillingMapping.row)
            $0.totals = reconciliation.totals.map(BillingMapping.row)
            $0.thresholdPercent = threshold.percent
            $0.minimumDifferenceUsd = threshold.minimumUSD
        }
    }

    func listSyncRuns(request: Llmlab_V1_ListBillingSyncRunsRequest, context: ServerContext) async throws -> Llmlab_V1_ListBillingSyncRunsResponse {
        let tenant = try Self.requireTenantWide()
        let connectionID = try Validate.optionalID(request.connectionID, field: "connection_id")
        let limit = try Validate.pageSize(request.limit, field: "limit")
        let logger = plane.logger
        let runs = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let billing = BillingRepository(connection, logger: logger)
            if let connectionID, try await billing.findConnection(id: connectionID) == nil {
                throw APIError.notFound("billing connection", request.connectionID)
            }
            return try await billing.listRuns(connectionID: connectionID, limit: limit)
        }
        return .with { $0.runs = runs.map(BillingMapping.run) }
    }

    /// Billing data covers the whole tenant's spend: a project-scoped API key may not use it.
    static func requireTenantWide() throws -> TenantRecord {
        let (principal, tenant) = try CallContext.require().requireTenant()
        guard principal.projectID == nil else {
            throw APIError(.permissionDenied, "billing applies to the whole tenant; a project-scoped API key cannot use it")
        }
        return tenant
    }

    /// A provider failure as the caller sees it (the message never holds the credential).
    static func rpcError(_ error: BillingError) -> APIError {
        switch error.code {
        case .configuration, .unauthorized: APIError(.failedPrecondition, "sync failed: \(error.message)")
        case .rateLimited: APIError(.resourceExhausted, "sync failed: \(error.message)")
        case .invalidFile: APIError(.invalidArgument, error.message)
        case .httpStatus, .transport, .invalidResponse: APIError(.unavailable, "sync failed: \(error.message)")
        }
    }
}

/// Wire forms of billing records.
enum BillingMapping {
    static func connection(_ record: BillingConnectionRecord) -> Llmlab_V1_BillingConnection {
        .with {
            $0.id = record.id.uuidString.lowercased()
            switch record.kind {
            case "openai": $0.kind = .openai
            case "anthropic": $0.kind = .anthropic
            case "azure": $0.kind = .azure
            default: $0.kind = .unspecified
            }
            $0.name = record.name
            $0.credentialLastFour = record.credentialLastFour
            $0.settings = record.settings
            $0.schedule = record.schedule == "hourly" ? .hourly : .daily
            $0.disabled = record.disabled
            switch record.lastSyncStatus {
            case "succeeded": $0.lastSyncStatus = .succeeded
            case "failed": $0.lastSyncStatus = .failed
            default: $0.lastSyncStatus = .never
            }
            $0.lastSyncError = record.lastSyncError
            if let last = record.lastSyncAt { $0.lastSyncAt = Google_Protobuf_Timestamp(date: last) }
            $0.nextSyncAt = Google_Protobuf_Timestamp(date: record.nextSyncAt)
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
        }
    }

    static func run(_ record: BillingSyncRunRecord) -> Llmlab_V1_BillingSyncRun {
        .with {
            $0.id = record.id.uuidString.lowercased()
            $0.connectionID = record.connectionID?.uuidString.lowercased() ?? ""
            $0.source = record.source
            $0.trigger = record.trigger
            $0.fromDate = record.firstDay
            $0.toDate = record.lastDay
            $0.startedAt = Google_Protobuf_Timestamp(date: record.startedAt)
            $0.status = record.status
            $0.lines = Int32(clamping: record.lines)
            $0.totalUsd = record.totalUSD
            $0.error = record.error
        }
    }

    static func row(_ row: ReconciliationRow) -> Llmlab_V1_ReconciliationRow {
        .with {
            $0.provider = row.provider
            $0.day = row.day?.description ?? ""
            $0.model = row.model
            $0.trackedUsd = row.trackedUSD
            $0.billedUsd = row.billedUSD
            $0.differenceUsd = row.differenceUSD
            $0.differencePercent = row.differencePercent ?? ""
            $0.flagged = row.flagged
            switch row.side {
            case .both: $0.side = .both
            case .trackedOnly: $0.side = .trackedOnly
            case .billedOnly: $0.side = .billedOnly
            }
        }
    }
}
