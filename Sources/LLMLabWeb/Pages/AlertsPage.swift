import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `/ui/alerts`: what fired (the alert history, with how its deliveries stand), the rules
/// that decide it, where alerts go (channels) and what was sent (the delivery log). Built
/// from sections so another kind of alert data slots in as one more section.
extension DashboardController {
    func alertsPage(_ session: DashboardSession) async throws -> HTML {
        let metadata = session.metadata
        async let alerts = rpc.alerts.listAlerts(.with { $0.limit = 100 }, metadata: metadata, options: rpc.options)
        async let rules = rpc.alerts.listAlertRules(.init(), metadata: metadata, options: rpc.options)
        async let channels = rpc.alerts.listChannels(.init(), metadata: metadata, options: rpc.options)
        async let deliveries = rpc.alerts.listDeliveries(.with { $0.limit = 100 }, metadata: metadata, options: rpc.options)
        async let projects = rpc.projects.listProjects(.with { $0.includeArchived = true; $0.pageSize = 500 },
                                                       metadata: metadata, options: rpc.options)
        let view = AlertsView(alerts: try await alerts.alerts, rules: try await rules.rules, channels: try await channels.channels,
                              deliveries: try await deliveries.deliveries, projects: try await projects.projects)
        return Layout.page(title: "Alerts", section: .alerts, session: session, content: view.render(session: session))
    }
}

struct AlertsView {
    var alerts: [Llmlab_V1_Alert]
    var rules: [Llmlab_V1_AlertRule]
    var channels: [Llmlab_V1_AlertChannel]
    var deliveries: [Llmlab_V1_AlertDelivery]
    var projects: [Llmlab_V1_Project]

    /// The page's sections in order; add one per new kind of alert data.
    func sections() -> [(title: String, body: HTML)] {
        [
            ("Fired alerts", Self.alertTable(alerts, testID: "alert-history")),
            ("Rules", Self.ruleTable(rules, projects: SettingsHTML.names(projects))),
            ("Channels", Self.channelTable(channels)),
            ("Delivery log", Self.deliveryTable(deliveries, channels: Self.names(channels), testID: "delivery-log")),
        ]
    }

    func render(session: DashboardSession) -> HTML {
        let manage: HTML = session.canManage ? " <a class=\"button\" href=\"/ui/settings/alerts\">Manage rules and channels</a>" : ""
        let body = sections().map { section -> HTML in "<section><h2>\(section.title)</h2>\(section.body)</section>" }
        return "<h1>Alerts\(manage)</h1>\(body)"
    }

    static func names(_ channels: [Llmlab_V1_AlertChannel]) -> [String: String] {
        Dictionary(channels.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    static func kindName(_ kind: Llmlab_V1_AlertChannelKind) -> String {
        switch kind {
        case .slack: "Slack"
        case .email: "email"
        default: "webhook"
        }
    }

    static func alertKindName(_ kind: String) -> String {
        switch kind {
        case "budget_threshold": "budget threshold"
        case "budget_forecast": "forecast over budget"
        case "cost_spike": "cost spike"
        default: kind
        }
    }

    /// Fired alerts, newest first.
    static func alertTable(_ alerts: [Llmlab_V1_Alert], testID: String) -> HTML {
        guard !alerts.isEmpty else { return Layout.empty("No alerts have fired.") }
        let rows = alerts.map { alert -> HTML in
            let what: HTML = alert.kind == "budget_threshold" ? "\(alert.thresholdPct)% of budget" : HTML("\(alertKindName(alert.kind))")
            let deliveries: HTML = """
            \(alert.deliveriesDelivered) delivered\(alert.deliveriesPending > 0 ? " · \(alert.deliveriesPending) pending" : "")\
            \(alert.deliveriesFailed > 0 ? " · \(alert.deliveriesFailed) failed" : "")
            """
            let tone = alert.kind == "cost_spike" || alert.thresholdPct >= 100 ? "bad" : "warn"
            return """
            <tr data-testid="alert-row" data-alert-kind="\(alert.kind)"><td>\(UTCTime.html(alert.firedAt))</td>\
            <td><span class="pill \(tone)">\(what)</span></td><td>\(alert.subjectName.isEmpty ? alert.subjectID : alert.subjectName)</td>\
            <td class="num">\(Money.html(alert.observedUsd))</td><td class="num">\(Money.html(alert.limitUsd))</td>\
            <td>\(alert.period)</td><td>\(deliveries)</td></tr>
            """
        }
        return """
        <table class="data" data-testid="\(testID)"><thead><tr><th>Fired</th><th>Alert</th><th>Project / key</th>\
        <th class="num">Observed</th><th class="num">Limit</th><th>Period</th><th>Deliveries</th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }

    static func ruleTable(_ rules: [Llmlab_V1_AlertRule], projects: [String: String],
                          actions: ((Llmlab_V1_AlertRule) -> HTML)? = nil) -> HTML {
        guard !rules.isEmpty else {
            return Layout.empty("No rules: projects and keys with a monthly budget alert at 50, 80 and 100 % of it.")
        }
        let rows = rules.map { rule -> HTML in
            let subject = rule.subjectKind == .project ? "project " + (projects[rule.subjectID] ?? rule.subjectID) : "API key " + rule.subjectID
            let thresholds = rule.thresholds.isEmpty ? "none" : rule.thresholds.map { "\($0)%" }.joined(separator: ", ")
            let spike = rule.spikeFactor.isEmpty ? "—" : "× \(rule.spikeFactor), at least $\(rule.spikeMinUsd)/h"
            let action: HTML = actions.map { "<td class=\"actions\">\($0(rule))</td>" } ?? .empty
            return """
            <tr data-testid="rule-row" data-rule-id="\(rule.id)"><td>\(subject)</td><td>\(thresholds)</td>\
            <td>\(rule.forecast ? "yes" : "no")</td><td>\(spike)</td><td>\(UTCTime.html(rule.updatedAt))</td>\(action)</tr>
            """
        }
        return """
        <table class="data" data-testid="rule-table"><thead><tr><th>Subject</th><th>Budget thresholds</th><th>Forecast</th>\
        <th>Cost spike</th><th>Updated</th>\(actions == nil ? "" : "<th></th>" as HTML)</tr></thead><tbody>\(rows)</tbody></table>
        """
    }

    static func channelTable(_ channels: [Llmlab_V1_AlertChannel], actions: ((Llmlab_V1_AlertChannel) -> HTML)? = nil) -> HTML {
        guard !channels.isEmpty else { return Layout.empty("No alert channels.") }
        let rows = channels.map { channel -> HTML in
            let action: HTML = actions.map { "<td class=\"actions\">\($0(channel))</td>" } ?? .empty
            let target = channel.kind == .email ? channel.recipients.joined(separator: ", ") : channel.url
            let secret: HTML = channel.secretLastFour.isEmpty ? "—" : "<span class=\"mono\">…\(channel.secretLastFour)</span>"
            return """
            <tr data-testid="channel-row" data-channel-id="\(channel.id)"><td>\(channel.name)</td><td>\(kindName(channel.kind))</td>\
            <td class="mono clip">\(target)</td><td>\(secret)</td>\
            <td>\(channel.disabled ? "<span class=\"pill muted\">disabled</span>" as HTML : "<span class=\"pill ok\">active</span>")</td>\
            <td>\(UTCTime.html(channel.createdAt))</td>\(action)</tr>
            """
        }
        let actionHead: HTML = actions == nil ? .empty : "<th></th>"
        return """
        <table class="data" data-testid="channel-table"><thead><tr><th>Name</th><th>Kind</th><th>Target</th><th>Secret</th>\
        <th>State</th><th>Created</th>\(actionHead)</tr></thead><tbody>\(rows)</tbody></table>
        """
    }

    static func statusName(_ status: Llmlab_V1_AlertDeliveryStatus) -> (String, String) {
        switch status {
        case .delivered: ("delivered", "ok")
        case .failed: ("failed", "bad")
        case .pending: ("pending", "warn")
        default: ("unknown", "muted")
        }
    }

    static func deliveryTable(_ deliveries: [Llmlab_V1_AlertDelivery], channels: [String: String], testID: String) -> HTML {
        guard !deliveries.isEmpty else { return Layout.empty("Nothing has been sent.") }
        let rows = deliveries.map { delivery -> HTML in
            let (status, tone) = statusName(delivery.status)
            let code: HTML = delivery.lastStatusCode == 0 ? "—" : "\(delivery.lastStatusCode)"
            return """
            <tr data-testid="delivery-row"><td>\(UTCTime.html(delivery.createdAt))</td><td>\(delivery.eventKind)</td>\
            <td>\(channels[delivery.channelID] ?? delivery.channelID)</td><td><span class="pill \(tone)">\(status)</span></td>\
            <td class="num">\(delivery.attempts)</td><td class="num">\(code)</td><td class="clip">\(delivery.lastError)</td></tr>
            """
        }
        return """
        <table class="data" data-testid="\(testID)"><thead><tr><th>Created</th><th>Event</th><th>Channel</th><th>Status</th>\
        <th class="num">Attempts</th><th class="num">Code</th><th>Last error</th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }
}
