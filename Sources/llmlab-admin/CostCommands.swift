import ArgumentParser
import Foundation
import LLMLabProto
import SwiftProtobuf

/// `cost …`: where the money goes, from the server's hourly rollups (AnalyticsService).
struct CostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Cost and health analytics: sums, top spenders, month-end forecasts, model health.",
        subcommands: [Query.self, Top.self, Forecast.self, Models.self]
    )

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sum cost, requests, errors and tokens, grouped and filtered.")

        @Option(name: .customLong("group-by"),
                help: ArgumentHelp("Comma-separated: provider, model, project, key, route, day, hour, user (user only with project and day).", valueName: "dims"))
        var groupBy: DimensionList?

        @OptionGroup var filter: CostFilterOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_QueryCostRequest.with {
                $0.filter = filter.message(byUser: groupBy?.values.contains(.user) ?? false)
                $0.groupBy = groupBy?.values ?? []
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.analytics.queryCost(request, metadata: client.metadata, options: client.options)
            }
            let dimensions = groupBy?.values ?? []
            try global.output.emit(response) {
                var table = Table(headers: dimensions.map(CostDisplay.header)
                                  + ["REQUESTS", "ERRORS", "IN", "CACHED", "OUT", "REASONING", "COST USD"])
                for group in response.groups {
                    table.rows.append(dimensions.map { CostDisplay.value(group, $0) } + CostDisplay.totals(group.totals))
                }
                if !dimensions.isEmpty && !response.groups.isEmpty {
                    table.rows.append(dimensions.enumerated().map { $0.offset == 0 ? "TOTAL" : "" } + CostDisplay.totals(response.total))
                } else if dimensions.isEmpty {
                    table.rows.append(CostDisplay.totals(response.total))
                }
                if !dimensions.isEmpty && response.groups.isEmpty {
                    print("No usage in this range.")
                } else {
                    print(table.rendered(), terminator: "")
                }
                CostDisplay.unpricedNote(response.total)
            }
        }
    }

    struct Top: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The largest spenders of one dimension, by cost.")

        @Option(help: ArgumentHelp("model, key, route, project, provider, user or trace (the costliest agent runs).", valueName: "dim"))
        var by: TopDimension = .model

        @Option(help: "How many (1-100, default 10).")
        var limit: Int32 = 10

        @OptionGroup var filter: CostFilterOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard (1...100).contains(limit) else { throw ValidationError("--limit must be between 1 and 100") }
        }

        func run() async throws {
            let request = Llmlab_V1_TopNRequest.with {
                $0.filter = filter.message(byUser: by == .user)
                $0.dimension = by.dimension
                $0.limit = limit
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.analytics.topN(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.entries, emptyText: "No usage in this range.") { entries in
                var table = Table(headers: ["#", CostDisplay.header(by.dimension), "REQUESTS", "ERRORS", "IN", "CACHED", "OUT",
                                            "REASONING", "COST USD"])
                for (index, entry) in entries.enumerated() {
                    table.rows.append([String(index + 1), CostDisplay.value(entry, by.dimension)] + CostDisplay.totals(entry.totals))
                }
                return table
            }
        }
    }

    struct Forecast: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Projected month-end spend per project, with a range and the budget.")

        @Option(help: ArgumentHelp("Only this project.", valueName: "id"))
        var project: String?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ForecastRequest.with { $0.projectID = project ?? "" }
            let response = try await global.withAuthenticatedClient { client in
                try await client.analytics.forecast(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.forecasts, emptyText: "No projects.") { forecasts in
                var table = Table("PROJECT", "MONTH TO DATE", "PROJECTED", "RANGE", "BUDGET", "OVER", "METHOD")
                for forecast in forecasts {
                    table.add(
                        forecast.projectName.isEmpty ? forecast.projectID : forecast.projectName,
                        CostDisplay.usd(forecast.monthToDateUsd),
                        CostDisplay.usd(forecast.projectedMonthEndUsd),
                        "\(CostDisplay.usd(forecast.lowUsd)) – \(CostDisplay.usd(forecast.highUsd))",
                        forecast.budgetUsd.isEmpty ? "none" : CostDisplay.usd(forecast.budgetUsd),
                        forecast.budgetUsd.isEmpty ? "-" : (forecast.forecastToExceedBudget ? "yes" : "no"),
                        "\(forecast.method) (\(forecast.historyDays)d)")
                }
                return table
            }
        }
    }

    struct Models: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Error rate and latency percentiles per model.")

        @OptionGroup var filter: CostFilterOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ModelHealthRequest.with { $0.filter = filter.message() }
            let response = try await global.withAuthenticatedClient { client in
                try await client.analytics.modelHealth(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.models, emptyText: "No usage in this range.") { models in
                var table = Table("PROVIDER", "MODEL", "REQUESTS", "ERRORS", "ERROR RATE", "MEAN", "P50", "P90", "P99")
                for model in models {
                    table.add(model.provider, model.model, String(model.requests), String(model.errors),
                              String(format: "%.2f%%", model.errorRate * 100), String(format: "%.0f ms", model.meanLatencyMs),
                              "~\(model.latencyP50Ms) ms", "~\(model.latencyP90Ms) ms", "~\(model.latencyP99Ms) ms")
                }
                return table
            }
        }
    }
}

/// The filters every cost command shares. Times are widened to whole UTC hours (the
/// rollup's resolution): `--since` down, `--until` up. Default range: the last 7 days.
struct CostFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("From this time (RFC 3339, or a date); default 7 days ago.", valueName: "time"))
    var since: TimeArgument?

    @Option(help: ArgumentHelp("Until this time (RFC 3339, or a date); default now.", valueName: "time"))
    var until: TimeArgument?

    @Option(help: ArgumentHelp("Only this project.", valueName: "id"))
    var project: String?

    @Option(help: ArgumentHelp("Only this provider (openai, azure_openai, anthropic, gemini).", valueName: "name"))
    var provider: String?

    @Option(help: ArgumentHelp("Only this model (as requested).", valueName: "model"))
    var model: String?

    @Option(name: .customLong("api-key"), help: ArgumentHelp("Only this API key.", valueName: "id"))
    var apiKey: String?

    @Option(help: ArgumentHelp("Only this route.", valueName: "id"))
    var route: String?

    @Option(help: ArgumentHelp("Only this end user (the proxy's x-llmlab-user header or the body's user field).", valueName: "id"))
    var user: String?

    func validate() throws {
        if let since, let until, since.date >= until.date {
            throw ValidationError("--since must be earlier than --until")
        }
    }

    /// The filter on whole hours (the rollup's resolution); cost by end user (`byUser`, or
    /// `--user`) is kept per UTC day, so its start moves back to the day's midnight.
    func message(byUser: Bool = false) -> Llmlab_V1_AnalyticsFilter {
        let now = Date()
        let until = Self.hour(until?.date ?? now, roundingUp: true)
        var since = Self.hour(since?.date ?? now.addingTimeInterval(-7 * 86_400), roundingUp: false)
        if byUser || user != nil { since -= since % 86_400 }
        return Llmlab_V1_AnalyticsFilter.with {
            $0.since = Google_Protobuf_Timestamp(seconds: since, nanos: 0)
            $0.until = Google_Protobuf_Timestamp(seconds: max(until, since + 3_600), nanos: 0)
            $0.projectID = project ?? ""
            $0.provider = provider ?? ""
            $0.model = model ?? ""
            $0.apiKeyID = apiKey ?? ""
            $0.routeID = route ?? ""
            $0.user = user ?? ""
        }
    }

    static func hour(_ date: Date, roundingUp: Bool) -> Int64 {
        let seconds = date.timeIntervalSince1970
        let hours = roundingUp ? (seconds / 3_600).rounded(.up) : (seconds / 3_600).rounded(.down)
        return Int64(hours) * 3_600
    }
}

/// `--group-by provider,model,…`.
struct DimensionList: ExpressibleByArgument {
    var values: [Llmlab_V1_AnalyticsDimension]

    init?(argument: String) {
        var values: [Llmlab_V1_AnalyticsDimension] = []
        for part in argument.split(separator: ",") {
            guard let dimension = CostDisplay.dimension(named: part.trimmingCharacters(in: .whitespaces).lowercased()) else { return nil }
            values.append(dimension)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }
}

/// `--by` of `cost top`.
enum TopDimension: String, CaseIterable, ExpressibleByArgument {
    case model, key, route, project, provider, user, trace

    var dimension: Llmlab_V1_AnalyticsDimension {
        switch self {
        case .user: .user
        case .trace: .trace
        case .model: .model
        case .key: .apiKey
        case .route: .route
        case .project: .project
        case .provider: .provider
        }
    }
}

enum CostDisplay {
    static func dimension(named name: String) -> Llmlab_V1_AnalyticsDimension? {
        switch name {
        case "provider": .provider
        case "model": .model
        case "project": .project
        case "key", "api-key", "api_key": .apiKey
        case "route": .route
        case "day": .day
        case "hour": .hour
        case "user": .user
        default: nil
        }
    }

    static func header(_ dimension: Llmlab_V1_AnalyticsDimension) -> String {
        switch dimension {
        case .provider: "PROVIDER"
        case .model: "MODEL"
        case .project: "PROJECT"
        case .apiKey: "API KEY"
        case .route: "ROUTE"
        case .day: "DAY"
        case .hour: "HOUR"
        case .user: "USER"
        case .trace: "TRACE"
        default: "?"
        }
    }

    static func value(_ group: Llmlab_V1_CostGroup, _ dimension: Llmlab_V1_AnalyticsDimension) -> String {
        switch dimension {
        case .provider: group.provider
        case .model: group.model
        case .project: group.projectID
        case .apiKey: group.apiKeyID
        case .route: group.routeID.isEmpty ? "(no route)" : group.routeID
        case .day: String(Display.rfc3339(group.day.date).prefix(10))
        case .hour: Display.rfc3339(group.hour.date)
        case .user: group.user.isEmpty ? "(no user)" : group.user
        case .trace: "\(group.traceID) \(group.traceName)"
        default: ""
        }
    }

    static func totals(_ totals: Llmlab_V1_CostTotals) -> [String] {
        [String(totals.requests), String(totals.errors), String(totals.inputTokens), String(totals.cachedInputTokens),
         String(totals.outputTokens), String(totals.reasoningTokens), usd(totals.costUsd)]
    }

    static func usd(_ decimal: String) -> String { "$\(decimal.isEmpty ? "0" : decimal)" }

    static func unpricedNote(_ totals: Llmlab_V1_CostTotals) {
        if totals.unpricedRequests > 0 {
            FileHandle.standardError.write(Data("note: \(totals.unpricedRequests) unpriced request(s) are not in the cost\n".utf8))
        }
    }
}

extension ControlClient {
    var analytics: Llmlab_V1_AnalyticsService.Client<Transport> { .init(wrapping: client) }
}

extension Table {
    /// Columns known only at run time (the grouped dimensions).
    init(headers: [String]) {
        self.init()
        self.headers = headers
    }
}
