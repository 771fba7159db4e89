import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import Logging
import PostgresNIO
import SwiftProtobuf

/// Channel state changes, alert rules and the alert history. Every mutation is audited in
/// the transaction that makes it; ids of another tenant are simply not found (the tenant
/// transaction cannot see them).
extension AlertAPI {
    func updateChannel(request: Llmlab_V1_UpdateChannelRequest, context: ServerContext) async throws -> Llmlab_V1_UpdateChannelResponse {
        let tenant = try Self.requireTenantWide()
        let id = try Validate.id(request.id, field: "id")
        guard request.hasDisabled else {
            throw APIError(.invalidArgument, "disabled: set it to true to disable the channel or false to enable it")
        }
        let disabled = request.disabled
        let logger = plane.logger
        let auditor = plane.auditor
        let channel = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            guard let channel = try await AlertRepository(connection, logger: logger).setDisabled(id: id, disabled) else {
                throw APIError.notFound("alert channel", request.id)
            }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "alert_channel:\(id.uuidString.lowercased())",
                                     detail: ["name": channel.name, "event": disabled ? "disabled" : "enabled"])
            return channel
        }
        return .with { $0.channel = AlertMapping.channel(channel) }
    }

    func rotateChannelSecret(request: Llmlab_V1_RotateChannelSecretRequest,
                             context: ServerContext) async throws -> Llmlab_V1_RotateChannelSecretResponse {
        let tenant = try Self.requireTenantWide()
        let id = try Validate.id(request.id, field: "id")
        let secret = AlertSecret.generate()
        let dataKey = try plane.keyVault.unwrap([UInt8](tenant.wrappedDataKey), tenantID: tenant.id.uuidString.lowercased())
        let sealed = Data(try dataKey.seal(secret, associatedData: AlertSecret.associatedData(tenantID: tenant.id, channelID: id)))
        let lastFour = String(secret.suffix(4))
        let logger = plane.logger
        let auditor = plane.auditor
        let channel = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let alerts = AlertRepository(connection, logger: logger)
            guard let existing = try await alerts.findChannel(id: id) else { throw APIError.notFound("alert channel", request.id) }
            guard existing.kind != "email" else {
                throw APIError(.failedPrecondition, "id: email channels have no signing secret; only webhook and Slack channels do")
            }
            guard let channel = try await alerts.replaceSecret(id: id, sealedSecret: sealed, lastFour: lastFour) else {
                throw APIError.notFound("alert channel", request.id)
            }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "alert_channel:\(id.uuidString.lowercased())",
                                     detail: ["name": channel.name, "event": "secret_rotated", "secret_last_four": lastFour])
            return channel
        }
        return .with {
            $0.channel = AlertMapping.channel(channel)
            $0.secret = secret
        }
    }

    func setAlertRule(request: Llmlab_V1_SetAlertRuleRequest, context: ServerContext) async throws -> Llmlab_V1_SetAlertRuleResponse {
        let tenant = try Self.requireTenantWide()
        let input = try AlertRuleInput(request)
        let logger = plane.logger
        let auditor = plane.auditor
        if input.subjectKind == "api_key" {
            let tenantID = tenant.id
            let key = try await plane.database.withControlTransaction { connection in
                try await ApiKeyRepository(connection, logger: logger).find(tenantID: tenantID, id: input.subjectID)
            }
            guard let key, key.revokedAt == nil else { throw APIError.notFound("API key", request.apiKeyID) }
        }
        let rule = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            if input.subjectKind == "project" {
                let project = try await ProjectRepository(connection, logger: logger).find(id: input.subjectID)
                guard let project, project.archivedAt == nil else { throw APIError.notFound("project", request.projectID) }
            }
            let rule = try await AlertRuleRepository(connection, logger: logger).upsert(AlertRuleRecord(
                id: UUID(), subjectKind: input.subjectKind, subjectID: input.subjectID, thresholds: input.thresholds,
                forecast: input.forecast, spikeFactor: input.spikeFactor, spikeMinUSD: input.spikeMinUSD))
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "alert_rule:\(rule.id.uuidString.lowercased())",
                                     detail: ["subject": "\(rule.subjectKind):\(rule.subjectID.uuidString.lowercased())",
                                              "thresholds": rule.thresholds.map(String.init).joined(separator: ","),
                                              "forecast": String(rule.forecast), "spike_factor": rule.spikeFactor ?? "",
                                              "spike_min_usd": rule.spikeMinUSD ?? "", "event": "set"])
            return rule
        }
        return .with { $0.rule = AlertMapping.rule(rule) }
    }

    func listAlertRules(request: Llmlab_V1_ListAlertRulesRequest, context: ServerContext) async throws -> Llmlab_V1_ListAlertRulesResponse {
        let tenant = try Self.requireTenantWide()
        let logger = plane.logger
        let rules = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await AlertRuleRepository(connection, logger: logger).list()
        }
        return .with { $0.rules = rules.map(AlertMapping.rule) }
    }

    func deleteAlertRule(request: Llmlab_V1_DeleteAlertRuleRequest, context: ServerContext) async throws -> Llmlab_V1_DeleteAlertRuleResponse {
        let tenant = try Self.requireTenantWide()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let rules = AlertRuleRepository(connection, logger: logger)
            guard let rule = try await rules.find(id: id) else { throw APIError.notFound("alert rule", request.id) }
            try await rules.delete(id: id)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "alert_rule:\(id.uuidString.lowercased())",
                                     detail: ["subject": "\(rule.subjectKind):\(rule.subjectID.uuidString.lowercased())", "event": "deleted"])
        }
        return .init()
    }

    func listAlerts(request: Llmlab_V1_ListAlertsRequest, context: ServerContext) async throws -> Llmlab_V1_ListAlertsResponse {
        let tenant = try Self.requireTenantWide()
        let subjectID = try Validate.optionalID(request.subjectID, field: "subject_id")
        let limit = try Validate.pageSize(request.limit, field: "limit")
        let logger = plane.logger
        let alerts = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await AlertEventRepository(connection, logger: logger).list(limit: limit, subjectID: subjectID)
        }
        return .with { $0.alerts = alerts.map { AlertMapping.alert($0.event, $0.deliveries) } }
    }
}

/// A validated SetAlertRule request.
struct AlertRuleInput: Sendable {
    var subjectKind: String
    var subjectID: UUID
    var thresholds: [Int]
    var forecast: Bool
    var spikeFactor: String?
    var spikeMinUSD: String?

    init(_ request: Llmlab_V1_SetAlertRuleRequest) throws {
        let project = try Validate.optionalID(request.projectID, field: "project_id")
        let key = try Validate.optionalID(request.apiKeyID, field: "api_key_id")
        switch (project, key) {
        case (let project?, nil): (subjectKind, subjectID) = ("project", project)
        case (nil, let key?): (subjectKind, subjectID) = ("api_key", key)
        case (nil, nil): throw APIError(.invalidArgument, "project_id: name the project (project_id) or the API key (api_key_id) the rule is for")
        case (_?, _?): throw APIError(.invalidArgument, "api_key_id: send either project_id or api_key_id, not both")
        }
        if request.noThresholds {
            guard request.thresholds.isEmpty else {
                throw APIError(.invalidArgument, "thresholds: leave empty when no_thresholds is set")
            }
            thresholds = []
        } else if request.thresholds.isEmpty {
            thresholds = AlertRuleMath.defaultThresholds
        } else {
            guard request.thresholds.count <= 10 else { throw APIError(.invalidArgument, "thresholds: at most 10 percentages") }
            for value in request.thresholds where !(1...1000).contains(value) {
                throw APIError(.invalidArgument, "thresholds: \(value) is not a percentage between 1 and 1000 (e.g. 50,80,100)")
            }
            thresholds = Array(Set(request.thresholds.map(Int.init))).sorted()
        }
        forecast = request.forecast
        let factor = request.spikeFactor.trimmingCharacters(in: .whitespaces)
        let minimum = request.spikeMinUsd.trimmingCharacters(in: .whitespaces)
        switch (factor.isEmpty, minimum.isEmpty) {
        case (true, true):
            spikeFactor = nil
            spikeMinUSD = nil
        case (false, true):
            throw APIError(.invalidArgument, "spike_min_usd: required with spike_factor, the smallest hourly spend worth an alert (e.g. \"5\")")
        case (true, false):
            throw APIError(.invalidArgument, "spike_factor: required with spike_min_usd, a factor above 1 (e.g. \"3\")")
        case (false, false):
            guard AlertRuleMath.factorTenThousandths(factor) != nil else {
                throw APIError(.invalidArgument, "spike_factor: \"\(factor)\" must be a decimal above 1 with at most 4 decimals, at most 100000 (e.g. \"3\" or \"2.5\")")
            }
            let amount: USDAmount
            do { amount = try USDAmount.parse(minimum, field: "spike_min_usd") } catch {
                throw APIError(.invalidArgument, "spike_min_usd: \"\(minimum)\" must be a non-negative USD amount with at most 6 decimals (e.g. \"5\")")
            }
            spikeFactor = factor
            spikeMinUSD = amount.description
        }
        if thresholds.isEmpty && !forecast && spikeFactor == nil {
            throw APIError(.invalidArgument, "thresholds: this rule would alert on nothing; set thresholds, forecast or a spike rule, or delete the rule")
        }
    }
}

extension AlertMapping {
    static func rule(_ record: AlertRuleRecord) -> Llmlab_V1_AlertRule {
        .with {
            $0.id = record.id.uuidString.lowercased()
            $0.subjectKind = record.subjectKind == "api_key" ? .apiKey : .project
            $0.subjectID = record.subjectID.uuidString.lowercased()
            $0.thresholds = record.thresholds.map { Int32($0) }
            $0.forecast = record.forecast
            $0.spikeFactor = record.spikeFactor ?? ""
            $0.spikeMinUsd = record.spikeMinUSD ?? ""
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
            $0.updatedAt = Google_Protobuf_Timestamp(date: record.updatedAt)
        }
    }

    static func alert(_ record: AlertEventRecord, _ deliveries: AlertDeliverySummary) -> Llmlab_V1_Alert {
        .with {
            $0.id = record.id.uuidString.lowercased()
            $0.kind = record.kind
            $0.subjectKind = record.subjectKind == "api_key" ? .apiKey : .project
            $0.subjectID = record.subjectID.uuidString.lowercased()
            $0.subjectName = record.subjectName
            $0.projectID = record.projectID?.uuidString.lowercased() ?? ""
            $0.period = record.period
            $0.thresholdPct = Int32(record.threshold)
            $0.observedUsd = record.observedUSD
            $0.limitUsd = record.limitUSD ?? ""
            $0.baselineUsd = record.baselineUSD ?? ""
            $0.firedAt = Google_Protobuf_Timestamp(date: record.firedAt)
            $0.deliveriesPending = Int32(deliveries.pending)
            $0.deliveriesDelivered = Int32(deliveries.delivered)
            $0.deliveriesFailed = Int32(deliveries.failed)
        }
    }
}
