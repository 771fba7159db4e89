import ArgumentParser
import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

extension ControlClient {
    var alerts: Llmlab_V1_AlertService.Client<Transport> { .init(wrapping: client) }
}

/// `alert …`: alert rules, where alerts go (webhook, Slack and email channels), the alert
/// history and the delivery log.
struct AlertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert",
        abstract: "Manage alert rules and channels; inspect the alert history and deliveries.",
        subcommands: [Channel.self, Rule.self, History.self, Deliveries.self]
    )

    struct Channel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, list, delete, test, disable, enable channels and rotate their secrets.",
            subcommands: [Add.self, List.self, Delete.self, Test.self, Disable.self, Enable.self, Rotate.self]
        )
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a webhook, Slack or email channel; prints a webhook's signing secret once.",
            discussion: """
                Every webhook delivery is POSTed as JSON with X-LLMLab-Signature: sha256=<hex \
                HMAC-SHA256 of the body keyed with the secret>. Store the secret now: it is not shown \
                again. Email channels (--kind email --to a@x,b@y) send through the server's SMTP relay \
                (llmlab-server --smtp-url).
                """
        )

        @Argument(help: "A name unique in the tenant.")
        var name: String

        @Option(help: "The webhook's http:// or https:// URL (webhook and slack).")
        var url: String?

        @Option(help: "webhook (signed JSON), slack (a Slack-compatible incoming webhook: {\"text\": …}) or email.")
        var kind: String = "webhook"

        @Option(help: ArgumentHelp("Email recipients, comma-separated (email).", valueName: "a@x,b@y"))
        var to: String?

        func validate() throws {
            guard ["webhook", "slack", "email"].contains(kind) else {
                throw ValidationError("--kind must be webhook, slack or email (got \(kind))")
            }
            if kind == "email" {
                guard to != nil else { throw ValidationError("--kind email needs --to a@example.com[,b@example.com]") }
                guard url == nil else { throw ValidationError("--url is for webhook and slack channels; email channels take --to") }
            } else {
                guard url != nil else { throw ValidationError("--kind \(kind) needs --url https://…") }
                guard to == nil else { throw ValidationError("--to is for email channels (--kind email)") }
            }
        }

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_CreateChannelRequest.with {
                $0.name = name
                $0.kind = kind == "slack" ? .slack : kind == "email" ? .email : .webhook
                $0.url = url ?? ""
                $0.recipients = (to ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.createChannel(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                AlertView.details(response.channel).print()
                guard !response.secret.isEmpty else { return }
                print("")
                print("Signing secret (shown once, store it now):")
                print(response.secret)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alert channels.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.listChannels(.init(), metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.channels, emptyText: "No alert channels.") { channels in
                var table = Table("ID", "NAME", "KIND", "SECRET", "STATE", "CREATED", "URL/TO")
                for channel in channels {
                    let email = channel.kind == .email
                    table.add(channel.id, channel.name, AlertView.kind(channel.kind),
                              email ? Display.none : AlertView.masked(channel.secretLastFour),
                              channel.disabled ? "disabled" : "enabled",
                              Display.timestamp(channel.createdAt, isSet: channel.hasCreatedAt),
                              email ? channel.recipients.joined(separator: ",") : channel.url)
                }
                return table
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an alert channel and its delivery log.")

        @Argument(help: "The channel's id (see `alert channel list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_DeleteChannelRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.deleteChannel(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Deleted alert channel \(id).") }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test delivery to a channel (see `alert deliveries` for the outcome).")

        @Argument(help: "The channel's id (see `alert channel list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_TestChannelRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.testChannel(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                print("Enqueued test delivery \(response.deliveryID); follow it with: llmlab-admin alert deliveries --channel \(id)")
            }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the delivery log, newest first.")

        @Option(help: "Only this channel's deliveries.")
        var channel: String?

        @OptionGroup var limit: LogLimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ListDeliveriesRequest.with {
                $0.channelID = channel ?? ""
                $0.limit = limit.requested
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.listDeliveries(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.deliveries, emptyText: "No deliveries.") { deliveries in
                var table = Table("ID", "CHANNEL", "EVENT", "STATUS", "ATTEMPTS", "CODE", "CREATED", "NEXT/DELIVERED", "ERROR")
                for delivery in deliveries {
                    table.add(
                        delivery.id, delivery.channelID, delivery.eventKind, AlertView.status(delivery.status),
                        String(delivery.attempts), delivery.lastStatusCode == 0 ? Display.none : String(delivery.lastStatusCode),
                        Display.timestamp(delivery.createdAt, isSet: delivery.hasCreatedAt),
                        delivery.hasDeliveredAt
                            ? Display.timestamp(delivery.deliveredAt, isSet: true)
                            : Display.timestamp(delivery.nextAttemptAt, isSet: delivery.hasNextAttemptAt),
                        delivery.lastError.isEmpty ? "" : delivery.lastError)
                }
                return table
            }
        }
    }
}

/// How channels and deliveries read; the secret only as its last four characters.
enum AlertView {
    static func masked(_ lastFour: String) -> String {
        lastFour.isEmpty ? Display.none : "whsec_…\(lastFour)"
    }

    static func kind(_ kind: Llmlab_V1_AlertChannelKind) -> String {
        switch kind {
        case .slack: return "slack"
        case .email: return "email"
        default: return "webhook"
        }
    }

    static func status(_ status: Llmlab_V1_AlertDeliveryStatus) -> String {
        switch status {
        case .pending: return "pending"
        case .delivered: return "delivered"
        case .failed: return "failed"
        default: return Display.none
        }
    }

    static func details(_ channel: Llmlab_V1_AlertChannel) -> Details {
        var details = Details()
        details.add("id", channel.id)
        details.add("name", channel.name)
        details.add("kind", kind(channel.kind))
        if channel.kind == .email {
            details.add("to", channel.recipients.joined(separator: ", "))
        } else {
            details.add("url", channel.url)
            details.add("secret", masked(channel.secretLastFour))
        }
        details.add("state", channel.disabled ? "disabled" : "enabled")
        details.add("created", Display.timestamp(channel.createdAt, isSet: channel.hasCreatedAt))
        return details
    }
}

// MARK: - Channel state, rules, history

extension AlertCommand {
    /// `alert channel disable|enable ID`.
    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a channel: it gets no new deliveries.")

        @Argument(help: "The channel's id (see `alert channel list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws { try await AlertCommand.setDisabled(id: id, true, global: global) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled channel again.")

        @Argument(help: "The channel's id (see `alert channel list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws { try await AlertCommand.setDisabled(id: id, false, global: global) }
    }

    static func setDisabled(id: String, _ disabled: Bool, global: GlobalOptions) async throws {
        let request = Llmlab_V1_UpdateChannelRequest.with {
            $0.id = id
            $0.disabled = disabled
        }
        let response = try await global.withAuthenticatedClient { client in
            try await client.alerts.updateChannel(request, metadata: client.metadata, options: client.options)
        }
        try global.output.emit(response) { print("\(disabled ? "Disabled" : "Enabled") alert channel \(id).") }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a webhook or Slack channel's signing secret; prints the new one once.",
            discussion: "The old secret stops signing immediately: update the receiver's verification with the new one.")

        @Argument(help: "The channel's id (see `alert channel list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_RotateChannelSecretRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.rotateChannelSecret(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                AlertView.details(response.channel).print()
                print("")
                print("New signing secret (shown once, store it now):")
                print(response.secret)
            }
        }
    }

    /// `alert rule set|list|delete`.
    struct Rule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Alert rules per project or API key: thresholds, month-end forecast, cost spikes.",
            discussion: """
                Without a rule, a project or key with a monthly budget alerts at 50, 80 and 100 % of it. \\
                Each alert fires once per threshold per month (per hour for spikes).
                """,
            subcommands: [RuleSet.self, RuleList.self, RuleDelete.self]
        )
    }

    struct RuleSet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Create or replace the rule of a project (--project) or an API key (--key).")

        @Option(help: "The project's id.")
        var project: String?

        @Option(help: "The API key's id.")
        var key: String?

        @Option(help: ArgumentHelp("Percentages of the monthly budget (default 50,80,100); \"off\" for none.",
                                   valueName: "50,80,100|off"))
        var thresholds: String?

        @Option(help: ArgumentHelp("Alert once a month when the projected month-end spend exceeds the budget.",
                                   valueName: "on|off"))
        var forecast: String = "off"

        @Option(name: .customLong("spike-factor"),
                help: ArgumentHelp("Alert when the last 60 minutes' spend exceeds K × the mean hourly spend of the previous 7 days.",
                                   valueName: "K"))
        var spikeFactor: String?

        @Option(name: .customLong("spike-min-usd"),
                help: ArgumentHelp("…and is at least this many USD (required with --spike-factor).", valueName: "X"))
        var spikeMinUSD: String?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard (project == nil) != (key == nil) else { throw ValidationError("name exactly one of --project ID and --key ID") }
            guard ["on", "off"].contains(forecast) else { throw ValidationError("--forecast must be on or off (got \(forecast))") }
            guard (spikeFactor == nil) == (spikeMinUSD == nil) else {
                throw ValidationError("--spike-factor and --spike-min-usd go together (e.g. --spike-factor 3 --spike-min-usd 5)")
            }
            if let thresholds, thresholds != "off" {
                for part in thresholds.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let value = Int(part.trimmingCharacters(in: .whitespaces)), (1...1000).contains(value) else {
                        throw ValidationError("--thresholds takes percentages 1–1000 separated by commas, e.g. 50,80,100 (got \(thresholds))")
                    }
                }
            }
        }

        func run() async throws {
            let request = Llmlab_V1_SetAlertRuleRequest.with {
                $0.projectID = project ?? ""
                $0.apiKeyID = key ?? ""
                if thresholds == "off" {
                    $0.noThresholds = true
                } else if let thresholds {
                    $0.thresholds = thresholds.split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
                }
                $0.forecast = forecast == "on"
                $0.spikeFactor = spikeFactor ?? ""
                $0.spikeMinUsd = spikeMinUSD ?? ""
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.setAlertRule(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { AlertView.details(response.rule).print() }
        }
    }

    struct RuleList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List alert rules.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.listAlertRules(.init(), metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.rules, emptyText: "No alert rules (budgets alert at 50, 80 and 100 %).") { rules in
                var table = Table("ID", "SUBJECT", "THRESHOLDS", "FORECAST", "SPIKE", "UPDATED")
                for rule in rules {
                    table.add(rule.id, AlertView.subject(rule.subjectKind, rule.subjectID), AlertView.thresholds(rule),
                              rule.forecast ? "on" : "off", AlertView.spike(rule),
                              Display.timestamp(rule.updatedAt, isSet: rule.hasUpdatedAt))
                }
                return table
            }
        }
    }

    struct RuleDelete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Delete a rule; its subject falls back to the default 50/80/100 % thresholds.")

        @Argument(help: "The rule's id (see `alert rule list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_DeleteAlertRuleRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.deleteAlertRule(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Deleted alert rule \(id).") }
        }
    }

    /// `alert history`.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the alerts that fired, newest first, with their deliveries.")

        @Option(help: "Only this project's or API key's alerts.")
        var subject: String?

        @OptionGroup var limit: LogLimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ListAlertsRequest.with {
                $0.subjectID = subject ?? ""
                $0.limit = limit.requested
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.listAlerts(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.alerts, emptyText: "No alerts have fired.") { alerts in
                var table = Table("FIRED", "KIND", "SUBJECT", "PERIOD", "WHAT", "DELIVERIES")
                for alert in alerts {
                    table.add(Display.timestamp(alert.firedAt, isSet: alert.hasFiredAt), alert.kind,
                              AlertView.subject(alert.subjectKind, alert.subjectName.isEmpty ? alert.subjectID : alert.subjectName),
                              alert.period, AlertView.what(alert),
                              "\(alert.deliveriesDelivered) delivered, \(alert.deliveriesPending) pending, \(alert.deliveriesFailed) failed")
                }
                return table
            }
        }
    }
}

extension AlertView {
    static func subject(_ kind: Llmlab_V1_AlertSubjectKind, _ name: String) -> String {
        (kind == .apiKey ? "key " : "project ") + name
    }

    static func thresholds(_ rule: Llmlab_V1_AlertRule) -> String {
        rule.thresholds.isEmpty ? "off" : rule.thresholds.map { "\($0)%" }.joined(separator: ",")
    }

    static func spike(_ rule: Llmlab_V1_AlertRule) -> String {
        rule.spikeFactor.isEmpty ? "off" : "> \(rule.spikeFactor)× 7-day hourly mean, min $\(rule.spikeMinUsd)"
    }

    /// One line of figures, exact decimals as the server sent them.
    static func what(_ alert: Llmlab_V1_Alert) -> String {
        switch alert.kind {
        case "budget_threshold": return "\(alert.thresholdPct)%: $\(alert.observedUsd) of $\(alert.limitUsd)"
        case "budget_forecast": return "projected $\(alert.observedUsd) > budget $\(alert.limitUsd)"
        case "cost_spike": return "hour $\(alert.observedUsd) > $\(alert.limitUsd) (mean $\(alert.baselineUsd)/h)"
        default: return alert.observedUsd
        }
    }

    static func details(_ rule: Llmlab_V1_AlertRule) -> Details {
        var details = Details()
        details.add("id", rule.id)
        details.add("subject", subject(rule.subjectKind, rule.subjectID))
        details.add("thresholds", thresholds(rule))
        details.add("forecast", rule.forecast ? "on" : "off")
        details.add("spike", spike(rule))
        return details
    }
}
