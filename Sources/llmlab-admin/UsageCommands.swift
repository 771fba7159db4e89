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


        @Option(help: ArgumentHelp("Only this model (as requested or as reported).", valueName: "model"))
        var model: String?

        @Option(help: ArgumentHelp("Only this status class: 2xx, 4xx or 5xx.", valueName: "class"))
        var status: String?

        @OptionGroup var window: TimeWindowOptions

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let base = Llmlab_V1_ListUsageEventsRequest.with {
                $0.projectID = project ?? ""
                $0.model = model ?? ""
                $0.statusClass = status ?? ""
                if let since = window.since { $0.since = since.timestamp }
                if let until = window.until { $0.until = until.timestamp }
            }
            let events = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
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
