import ArgumentParser
import GRPCCore
import LLMLabProto
import SwiftProtobuf

extension ControlClient {
    var alerts: Llmlab_V1_AlertService.Client<Transport> { .init(wrapping: client) }
}

/// `alert …`: where budget alerts go (webhook channels) and the delivery log.
struct AlertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert",
        abstract: "Manage alert channels (signed webhooks) and inspect deliveries.",
        subcommands: [Channel.self, Deliveries.self]
    )

    struct Channel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, list, delete and test webhook channels.",
            subcommands: [Add.self, List.self, Delete.self, Test.self]
        )
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a webhook channel; prints its signing secret once.",
            discussion: """
                Every delivery is POSTed as JSON with X-LLMLab-Signature: sha256=<hex HMAC-SHA256 \
                of the body keyed with the secret>. Store the secret now: it is not shown again.
                """
        )

        @Argument(help: "A name unique in the tenant.")
        var name: String

        @Option(help: "The webhook's http:// or https:// URL.")
        var url: String

        @Option(help: "webhook (signed JSON) or slack (a Slack-compatible incoming webhook: {\"text\": …}).")
        var kind: String = "webhook"

        func validate() throws {
            guard ["webhook", "slack"].contains(kind) else {
                throw ValidationError("--kind must be webhook or slack (got \(kind))")
            }
        }

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_CreateChannelRequest.with {
                $0.name = name
                $0.kind = kind == "slack" ? .slack : .webhook
                $0.url = url
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.createChannel(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                AlertView.details(response.channel).print()
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
                var table = Table("ID", "NAME", "KIND", "SECRET", "STATE", "CREATED", "URL")
                for channel in channels {
                    table.add(channel.id, channel.name, "webhook", AlertView.masked(channel.secretLastFour),
                              channel.disabled ? "disabled" : "enabled",
                              Display.timestamp(channel.createdAt, isSet: channel.hasCreatedAt), channel.url)
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

        @Option(help: "At most this many (default 50, at most 500).")
        var limit: Int?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if let limit, !(1...500).contains(limit) { throw ValidationError("--limit must be between 1 and 500") }
        }

        func run() async throws {
            let request = Llmlab_V1_ListDeliveriesRequest.with {
                $0.channelID = channel ?? ""
                $0.limit = Int32(limit ?? 0)
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.alerts.listDeliveries(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.deliveries, emptyText: "No deliveries.") { deliveries in
                var table = Table("ID", "CHANNEL", "EVENT", "STATUS", "ATTEMPTS", "HTTP", "CREATED", "NEXT/DELIVERED", "ERROR")
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
        details.add("kind", channel.kind == .slack ? "slack" : "webhook")
        details.add("url", channel.url)
        details.add("secret", masked(channel.secretLastFour))
        details.add("created", Display.timestamp(channel.createdAt, isSet: channel.hasCreatedAt))
        return details
    }
}
