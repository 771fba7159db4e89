import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.AlertService`: channels (webhook, Slack, email) and their delivery log; the
/// rules and the alert history are in `AlertAPI+Rules.swift`. The signing secret is
/// generated here, returned once by CreateChannel (and RotateChannelSecret) and stored
/// sealed with the tenant's data key (bound to tenant and channel id, like provider keys).
struct AlertAPI: Llmlab_V1_AlertService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    func createChannel(request: Llmlab_V1_CreateChannelRequest, context: ServerContext) async throws -> Llmlab_V1_CreateChannelResponse {
        let tenant = try Self.requireTenantWide()
        let name = try Validate.name(request.name, field: "name")
        let kind: String
        switch request.kind {
        case .unspecified, .webhook: kind = "webhook"
        case .slack: kind = "slack"
        case .email: kind = "email"
        default: throw APIError(.invalidArgument, "kind: send ALERT_CHANNEL_KIND_WEBHOOK, ALERT_CHANNEL_KIND_SLACK or ALERT_CHANNEL_KIND_EMAIL")
        }
        let url: String
        let recipients: [String]
        if kind == "email" {
            guard request.url.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError(.invalidArgument, "url: leave it empty for an EMAIL channel; send the addresses in recipients")
            }
            url = ""
            recipients = try AlertValidation.recipients(request.recipients, field: "recipients")
        } else {
            guard request.recipients.isEmpty else {
                throw APIError(.invalidArgument, "recipients: only EMAIL channels have recipients; a \(kind) channel takes a url")
            }
            url = try AlertValidation.webhookURL(request.url, field: "url")
            recipients = []
        }
        let secret = AlertSecret.generate()
        let dataKey = try plane.keyVault.unwrap([UInt8](tenant.wrappedDataKey), tenantID: tenant.id.uuidString.lowercased())
        let id = UUID()
        let sealed = try dataKey.seal(secret, associatedData: AlertSecret.associatedData(tenantID: tenant.id, channelID: id))
        let logger = plane.logger
        let auditor = plane.auditor
        let channel: AlertChannelRecord
        do {
            channel = try await plane.database.withTenantTransaction(tenant.scope) { connection in
                let stored = try await AlertRepository(connection, logger: logger).insertChannel(AlertChannelRecord(
                    id: id, name: name, kind: kind, url: url, sealedSecret: Data(sealed), lastFour: String(secret.suffix(4)),
                    recipients: recipients))
                try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "alert_channel:\(id.uuidString.lowercased())",
                                         detail: ["name": name, "kind": kind, "url": url, "recipients": recipients.joined(separator: ","),
                                                  "event": "created"])
                return stored
            }
        } catch where isUniqueViolation(error) {
            throw APIError(.alreadyExists, "name: an alert channel named \"\(name)\" already exists")
        }
        return .with {
            $0.channel = AlertMapping.channel(channel)
            // An email channel signs nothing: its (unused) secret is never shown.
            if kind != "email" { $0.secret = secret }
        }
    }

    func listChannels(request: Llmlab_V1_ListChannelsRequest, context: ServerContext) async throws -> Llmlab_V1_ListChannelsResponse {
        let tenant = try Self.requireTenantWide()
        let logger = plane.logger
        let channels = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await AlertRepository(connection, logger: logger).listChannels()
        }
        return .with { $0.channels = channels.map(AlertMapping.channel) }
    }

    func deleteChannel(request: Llmlab_V1_DeleteChannelRequest, context: ServerContext) async throws -> Llmlab_V1_DeleteChannelResponse {
        let tenant = try Self.requireTenantWide()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let alerts = AlertRepository(connection, logger: logger)
            guard let channel = try await alerts.findChannel(id: id) else { throw APIError.notFound("alert channel", request.id) }
            try await alerts.deleteChannel(id: id)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "alert_channel:\(id.uuidString.lowercased())",
                                     detail: ["name": channel.name, "event": "deleted"])
        }
        return .init()
    }

    func testChannel(request: Llmlab_V1_TestChannelRequest, context: ServerContext) async throws -> Llmlab_V1_TestChannelResponse {
        let tenant = try Self.requireTenantWide()
        let principal = try CallContext.require().requirePrincipal()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let auditor = plane.auditor
        let delivery = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let alerts = AlertRepository(connection, logger: logger)
            guard let channel = try await alerts.findChannel(id: id) else { throw APIError.notFound("alert channel", request.id) }
            let deliveryID = UUID()
            let payload = try AlertPayload.json(AlertPayload(
                event: "test", deliveryID: deliveryID, tenantID: tenant.id, occurredAt: Date(),
                data: ["channel_id": channel.id.uuidString.lowercased(), "channel_name": channel.name,
                       "requested_by": principal.actor]))
            let delivery = try await alerts.enqueue(id: deliveryID, channelID: id, eventKind: "test", payload: payload)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "alert_delivery:\(deliveryID.uuidString.lowercased())",
                                     detail: ["channel": id.uuidString.lowercased(), "event_kind": "test", "event": "enqueued"])
            return delivery
        }
        return .with { $0.deliveryID = delivery.id.uuidString.lowercased() }
    }

    func listDeliveries(request: Llmlab_V1_ListDeliveriesRequest, context: ServerContext) async throws -> Llmlab_V1_ListDeliveriesResponse {
        let tenant = try Self.requireTenantWide()
        let channelID = try Validate.optionalID(request.channelID, field: "channel_id")
        let limit = try Validate.pageSize(request.limit, field: "limit")
        let logger = plane.logger
        let deliveries = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let alerts = AlertRepository(connection, logger: logger)
            if let channelID, try await alerts.findChannel(id: channelID) == nil {
                throw APIError.notFound("alert channel", request.channelID)
            }
            return try await alerts.listDeliveries(channelID: channelID, limit: limit)
        }
        return .with { $0.deliveries = deliveries.map(AlertMapping.delivery) }
    }

    /// Channels and deliveries belong to the whole tenant (budget alerts name every
    /// project's spend): a key limited to one project may not read or change them.
    static func requireTenantWide() throws -> TenantRecord {
        let (principal, tenant) = try CallContext.require().requireTenant()
        guard principal.projectID == nil else {
            throw APIError(.permissionDenied, "alert channels apply to the whole tenant; a project-scoped API key cannot use them")
        }
        return tenant
    }
}

/// Checks for alert channel input.
enum AlertValidation {
    /// 1 to 20 distinct email addresses, each checked like a login email (lowercased).
    static func recipients(_ values: [String], field: String) throws -> [String] {
        let addresses = values.flatMap { $0.split(separator: ",").map(String.init) }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !addresses.isEmpty else {
            throw APIError(.invalidArgument, "\(field): an EMAIL channel needs at least one address, e.g. \"ops@example.com\"")
        }
        guard addresses.count <= 20 else { throw APIError(.invalidArgument, "\(field): at most 20 addresses") }
        var result: [String] = []
        for address in addresses {
            let valid = try Validate.email(address, field: field)
            // No characters that could break out of an SMTP command or a header line.
            guard !valid.contains(where: { "<>\"()[]\\:".contains($0) }), valid.allSatisfy({ $0.isASCII }) else {
                throw APIError(.invalidArgument, "\(field): \"\(address)\" is not a plain address (local@domain, ASCII, no <>()[]:\\\")")
            }
            if !result.contains(valid) { result.append(valid) }
        }
        return result
    }

    /// An absolute http(s) URL with a host, at most 2048 characters.
    static func webhookURL(_ value: String, field: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw APIError(.invalidArgument, "\(field): required, an http:// or https:// URL") }
        guard trimmed.count <= 2048 else { throw APIError(.invalidArgument, "\(field): at most 2048 characters") }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https"
        else {
            throw APIError(.invalidArgument, "\(field): must be an http:// or https:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw APIError(.invalidArgument, "\(field): must name a host (http(s)://host/path)")
        }
        guard components.user == nil, components.password == nil else {
            throw APIError(.invalidArgument, "\(field): must not carry credentials; the signature authenticates deliveries")
        }
        return trimmed
    }
}

/// Wire forms of channels and deliveries.
enum AlertMapping {
    static func channel(_ record: AlertChannelRecord) -> Llmlab_V1_AlertChannel {
        .with {
            $0.id = record.id.uuidString.lowercased()
            $0.name = record.name
            $0.kind = record.kind == "slack" ? .slack : record.kind == "email" ? .email : .webhook
            $0.url = record.url
            $0.recipients = record.recipients
            // Email channels sign nothing: no secret to show.
            $0.secretLastFour = record.kind == "email" ? "" : record.lastFour
            $0.disabled = record.disabled
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
        }
    }

    static func delivery(_ record: AlertDeliveryRecord) -> Llmlab_V1_AlertDelivery {
        .with {
            $0.id = record.id.uuidString.lowercased()
            $0.channelID = record.channelID.uuidString.lowercased()
            $0.eventKind = record.eventKind
            $0.payloadJson = record.payload
            $0.attempts = Int32(record.attempts)
            switch record.status {
            case .pending: $0.status = .pending
            case .delivered: $0.status = .delivered
            case .failed: $0.status = .failed
            }
            $0.lastStatusCode = Int32(record.lastStatusCode ?? 0)
            $0.lastError = record.lastError
            if record.status == .pending { $0.nextAttemptAt = Google_Protobuf_Timestamp(date: record.nextAttemptAt) }
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
            if let delivered = record.deliveredAt { $0.deliveredAt = Google_Protobuf_Timestamp(date: delivered) }
        }
    }
}
