import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `usage …`: the tenant's metered proxy requests.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "List metered proxy requests (tokens, exact cost, latency).",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List usage events, newest first.")

        @Option(help: ArgumentHelp("Only this project.", valueName: "id"))
        var project: String?

        @Option(help: ArgumentHelp("Only requests at or after this time (RFC 3339, or a date).", valueName: "time"))
        var since: TimeArgument?

        @Option(help: ArgumentHelp("Only requests before this time (RFC 3339, or a date).", valueName: "time"))
        var until: TimeArgument?

        @Option(help: ArgumentHelp("Only this model (as requested or as reported).", valueName: "model"))
        var model: String?

        @Option(help: ArgumentHelp("Only this status class: 2xx, 4xx or 5xx.", valueName: "class"))
        var status: String?

        @Option(help: "Stop after this many events (default: all).")
        var limit: Int?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            if let since, let until, since.date >= until.date {
                throw ValidationError("--since must be earlier than --until")
            }
        }

        func run() async throws {
            let base = Llmlab_V1_ListUsageEventsRequest.with {
                $0.projectID = project ?? ""
                $0.model = model ?? ""
                $0.statusClass = status ?? ""
                if let since { $0.since = since.timestamp }
                if let until { $0.until = until.timestamp }
            }
            let events = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: limit) { token, size in
                    var request = base
                    request.pageToken = token
                    request.pageSize = size
                    let page = try await client.usage.listUsageEvents(request, metadata: client.metadata, options: client.options)
                    return (page.events, page.nextPageToken)
                }
            }
            try global.output.emitList(events, emptyText: "No usage events.") { events in
                var table = Table("TIME", "PROJECT", "MODEL", "IN", "CACHED", "OUT", "REASONING", "COST USD", "LATENCY", "STATUS")
                for event in events {
                    table.add(
                        Display.timestamp(event.occurredAt, isSet: event.hasOccurredAt),
                        event.projectID,
                        event.responseModel.isEmpty || event.responseModel == event.model
                            ? event.model : "\(event.model) (\(event.responseModel))",
                        String(event.inputTokens), String(event.cachedInputTokens), String(event.outputTokens),
                        String(event.reasoningTokens),
                        event.priced ? event.costUsd : "unpriced",
                        "\(event.latencyMs) ms",
                        String(event.status))
                }
                return table
            }
        }
    }
}

extension ControlClient {
    var usage: Llmlab_V1_UsageService.Client<Transport> { .init(wrapping: client) }
}
