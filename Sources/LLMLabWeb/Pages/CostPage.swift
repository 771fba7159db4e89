import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `/ui/cost`: spend over time split by provider, model, project, API key or end user (a
/// stacked bar chart and the exact table), and the top models, routes, keys and the costliest
/// traces. Five rollup RPCs and two small name lists (projects, keys), all concurrent. Users
/// are a grouping of their own (`by=user`) rather than a card on every view: the end-user
/// rollup is as large as the number of distinct users makes it, so it is read only when asked.
extension DashboardController {
    func cost(_ session: DashboardSession, query: FormData) async throws -> HTML {
        let options = CostOptions(query)
        let filter = Llmlab_V1_AnalyticsFilter.with {
            $0.since = UTCTime.timestamp(options.since)
            $0.until = UTCTime.timestamp(options.until)
            $0.projectID = options.project
        }
        let metadata = session.metadata
        async let series = rpc.analytics.queryCost(.with {
            $0.filter = filter
            $0.groupBy = [options.granularity == "hour" ? .hour : .day, options.dimension.analytics]
        }, metadata: metadata, options: rpc.options)
        async let topModels = rpc.analytics.topN(.with { $0.filter = filter; $0.dimension = .model; $0.limit = 5 },
                                                 metadata: metadata, options: rpc.options)
        async let topRoutes = rpc.analytics.topN(.with { $0.filter = filter; $0.dimension = .route; $0.limit = 5 },
                                                 metadata: metadata, options: rpc.options)
        async let topKeys = rpc.analytics.topN(.with { $0.filter = filter; $0.dimension = .apiKey; $0.limit = 5 },
                                               metadata: metadata, options: rpc.options)
        async let topTraces = rpc.analytics.topN(.with { $0.filter = filter; $0.dimension = .trace; $0.limit = 5 },
                                                 metadata: metadata, options: rpc.options)
        async let projects = rpc.projects.listProjects(.with { $0.includeArchived = true; $0.pageSize = 500 },
                                                       metadata: metadata, options: rpc.options)
        // Names for the key ids the rollup groups by (a small control table).
        async let keys = rpc.auth.listApiKeys(.with { $0.includeRevoked = true; $0.pageSize = 500 }, metadata: metadata, options: rpc.options)
        // Too fine a split (more than the RPC's group limit) is a choice to change, not an error page.
        var notice: Notice?
        var seriesResponse = Llmlab_V1_QueryCostResponse()
        do {
            seriesResponse = try await series
        } catch let error as RPCError where error.code == .invalidArgument {
            notice = .error("\(error.message). Choose day granularity, a shorter range or another grouping.")
        }
        var view = CostView(options: options, series: seriesResponse, topModels: try await topModels.entries,
                            topRoutes: try await topRoutes.entries, topKeys: try await topKeys.entries,
                            projects: try await projects.projects, keys: try await keys.apiKeys)
        view.topTraces = try await topTraces.entries
        view.notice = notice
        return Layout.page(title: "Cost", section: .cost, session: session, content: view.render())
    }
}

/// The cost page's query string, validated to what the rollup answers cheaply.
struct CostOptions {
    enum Dimension: String, CaseIterable {
        case provider, model, project, key, user

        var analytics: Llmlab_V1_AnalyticsDimension {
            switch self {
            case .provider: .provider
            case .model: .model
            case .project: .project
            case .key: .apiKey
            case .user: .user
            }
        }

        var title: String { self == .key ? "API key" : rawValue.capitalized }
    }

    static let ranges: [(String, String, Int)] = [("24h", "Last 24 hours", 24), ("7d", "Last 7 days", 168),
                                                   ("30d", "Last 30 days", 720), ("90d", "Last 90 days", 2160)]

    var range: String
    var hours: Int
    /// "day" or "hour"; hour only for ranges up to 7 days (at most 168 bars).
    var granularity: String
    var dimension: Dimension
    var project: String
    var until: Date
    var since: Date

    init(_ query: FormData, now: Date = Date()) {
        let chosen = Self.ranges.first { $0.0 == query["range"] } ?? Self.ranges[2]
        range = chosen.0
        hours = chosen.2
        let requested = query["granularity"] == "hour" ? "hour" : query["granularity"] == "day" ? "day" : (hours <= 24 ? "hour" : "day")
        dimension = Dimension(rawValue: query["by"]) ?? .model
        // Cost by end user is kept per UTC day.
        granularity = hours > 168 || dimension == .user ? "day" : requested
        project = query["project"]
        until = UTCTime.hourCeiling(now)
        since = until.addingTimeInterval(-Double(hours) * 3600)
        if granularity == "day" {
            // Whole UTC days, so the first bar is not a partial day.
            since = UTCTime.calendar.startOfDay(for: since)
        }
    }

    /// Every bucket start in the range, so empty hours/days show as gaps, not missing bars.
    var buckets: [Date] {
        let step: TimeInterval = granularity == "hour" ? 3600 : 86_400
        var result: [Date] = []
        var cursor = since
        while cursor < until {
            result.append(cursor)
            cursor = cursor.addingTimeInterval(step)
        }
        return result
    }
}

struct CostView {
    var options: CostOptions
    var series: Llmlab_V1_QueryCostResponse
    var topModels: [Llmlab_V1_CostGroup]
    var topRoutes: [Llmlab_V1_CostGroup]
    var topKeys: [Llmlab_V1_CostGroup]
    /// The costliest traces of the range.
    var topTraces: [Llmlab_V1_CostGroup] = []
    var projects: [Llmlab_V1_Project]
    var notice: Notice?
    /// Names by id, built once: a range can have thousands of groups to label.
    let projectNames: [String: String]
    let keyNames: [String: String]

    init(options: CostOptions, series: Llmlab_V1_QueryCostResponse, topModels: [Llmlab_V1_CostGroup],
         topRoutes: [Llmlab_V1_CostGroup], topKeys: [Llmlab_V1_CostGroup], projects: [Llmlab_V1_Project], keys: [Llmlab_V1_ApiKey]) {
        self.options = options
        self.series = series
        self.topModels = topModels
        self.topRoutes = topRoutes
        self.topKeys = topKeys
        self.projects = projects
        self.projectNames = SettingsHTML.names(projects)
        self.keyNames = Dictionary(keys.map { ($0.id, "\($0.name) (\($0.prefix)…)") }, uniquingKeysWith: { first, _ in first })
    }

    func label(_ group: Llmlab_V1_CostGroup) -> String {
        switch options.dimension {
        case .provider: group.provider.isEmpty ? "(none)" : group.provider
        case .model: group.model.isEmpty ? "(none)" : group.model
        case .project: projectNames[group.projectID] ?? (group.projectID.isEmpty ? "(none)" : group.projectID)
        case .key: keyLabel(group.apiKeyID)
        case .user: group.user.isEmpty ? "(no user)" : group.user
        }
    }

    func keyLabel(_ id: String) -> String {
        id.isEmpty ? "(no key)" : keyNames[id] ?? "key " + id.prefix(8)
    }

    /// Per dimension value, over the whole range: exact sums of the time groups.
    struct Row {
        var label: String
        var costs: [String] = []
        var requests: Int64 = 0
        var errors: Int64 = 0
        var input: Int64 = 0
        var output: Int64 = 0
        /// The exact sum of `costs`, filled in once the groups are summed.
        var cost = ""
        /// For ordering only.
        var approximateCost = 0.0
    }

    func rows() -> [Row] {
        var order: [String] = []
        var rows: [String: Row] = [:]
        for group in series.groups {
            let name = label(group)
            if rows[name] == nil { order.append(name); rows[name] = Row(label: name) }
            rows[name]!.costs.append(group.totals.costUsd)
            rows[name]!.requests += group.totals.requests
            rows[name]!.errors += group.totals.errors
            rows[name]!.input += group.totals.inputTokens + group.totals.cachedInputTokens
            rows[name]!.output += group.totals.outputTokens
        }
        return order.compactMap { name -> Row? in
            guard var row = rows[name] else { return nil }
            row.cost = DecimalSum.sum(row.costs)
            row.approximateCost = Money.approximate(row.cost)
            return row
        }
        .sorted { $0.approximateCost != $1.approximateCost ? $0.approximateCost > $1.approximateCost : $0.label < $1.label }
    }

    func render() -> HTML {
        let rows = rows()
        return """
        <h1>Cost</h1>\(Layout.banner(notice))\(filters())
        <section class="cards"><div class="card"><h3>Spend in range</h3><p class="figure">\(Money.html(series.total.costUsd, id: "cost-total"))</p>\
        <p class="sub">\(UTCTime.minute(options.since)) – \(UTCTime.minute(options.until)) UTC</p></div>\
        <div class="card"><h3>Requests</h3><p class="figure num" data-testid="cost-requests">\(Money.count(series.total.requests))</p>\
        <p class="sub">\(Money.count(series.total.errors)) errors · \(Money.count(series.total.unpricedRequests)) unpriced</p></div></section>
        <section><h2>Spend by \(options.dimension.title.lowercased()) per \(options.granularity)</h2>\(chart(rows))</section>
        <section><h2>By \(options.dimension.title.lowercased())</h2>\(table(rows))</section>
        <section class="tops"><h2>Top spenders</h2><div class="cards">\
        \(top("Models", topModels, testID: "top-models") { $0.model })\
        \(top("Routes", topRoutes, testID: "top-routes") { $0.routeID.isEmpty ? "(no route)" : "route " + $0.routeID.prefix(8) })\
        \(top("API keys", topKeys, testID: "top-keys") { keyLabel($0.apiKeyID) })\
        \(costliestTraces())\
        </div></section>
        """
    }

    func filters() -> HTML {
        let ranges = CostOptions.ranges.map { option -> HTML in
            "<option value=\"\(option.0)\"\(option.0 == options.range ? " selected" : "")>\(option.1)</option>"
        }
        let dims = CostOptions.Dimension.allCases.map { dim -> HTML in
            "<option value=\"\(dim.rawValue)\"\(dim == options.dimension ? " selected" : "")>\(dim.title)</option>"
        }
        let grains = ["day", "hour"].map { grain -> HTML in
            "<option value=\"\(grain)\"\(grain == options.granularity ? " selected" : "")>\(grain == "day" ? "Day" : "Hour (≤ 7 days)")</option>"
        }
        let projectOptions = [HTML("<option value=\"\">All projects</option>")] + projects.filter { !$0.hasArchivedAt }.map { project -> HTML in
            "<option value=\"\(project.id)\"\(project.id == options.project ? " selected" : "")>\(project.name)</option>"
        }
        return """
        <form method="get" action="/ui/cost" class="filters" data-testid="cost-filters">\
        <label>Range <select name="range" data-autosubmit>\(ranges)</select></label>\
        <label>Group by <select name="by" data-autosubmit>\(dims)</select></label>\
        <label>Granularity <select name="granularity" data-autosubmit>\(grains)</select></label>\
        <label>Project <select name="project" data-autosubmit>\(projectOptions)</select></label>\
        <button type="submit">Apply</button></form>
        """
    }

    func chart(_ rows: [Row]) -> HTML {
        guard !series.groups.isEmpty else { return Layout.empty("No usage in this range.") }
        let buckets = options.buckets
        let index = Dictionary(buckets.enumerated().map { ($0.element.timeIntervalSince1970, $0.offset) }, uniquingKeysWith: { a, _ in a })
        // The eight largest series by name, the rest as "other".
        let shown = Array(rows.prefix(rows.count > 9 ? 8 : 9).map(\.label))
        let names = shown + (rows.count > shown.count ? ["other"] : [])
        var values = Array(repeating: Array(repeating: 0.0, count: buckets.count), count: names.count)
        var amounts = Array(repeating: Array(repeating: [String](), count: buckets.count), count: names.count)
        for group in series.groups {
            let start = (options.granularity == "hour" ? group.hour : group.day).date.timeIntervalSince1970
            guard let slot = index[start] else { continue }
            let name = label(group)
            let line = shown.firstIndex(of: name) ?? names.count - 1
            values[line][slot] += Money.approximate(group.totals.costUsd)
            amounts[line][slot].append(group.totals.costUsd)
        }
        // "09:00" within a day; "11-22 09:00" when hours span days; "11-22" per day.
        let labels = buckets.map { bucket -> String in
            guard options.granularity == "hour" else { return String(UTCTime.day(bucket).suffix(5)) }
            return String(UTCTime.minute(bucket).suffix(options.hours > 24 ? 11 : 5))
        }
        return Charts.stackedBars(
            buckets: labels,
            series: names.enumerated().map { Charts.Series(label: $0.element, values: values[$0.offset]) },
            amounts: amounts.map { $0.map { DecimalSum.sum($0) } }, testID: "cost-chart")
    }

    func table(_ rows: [Row]) -> HTML {
        guard !rows.isEmpty else { return Layout.empty("No usage in this range.") }
        let body = rows.enumerated().map { index, row -> HTML in
            """
            <tr data-testid="cost-row"><td>\(row.label)</td><td class="num">\(Money.count(row.requests))</td>\
            <td class="num">\(Money.count(row.errors))</td><td class="num">\(Money.count(row.input))</td>\
            <td class="num">\(Money.count(row.output))</td><td class="num">\(Money.html(row.cost, id: "cost-row-\(index)"))</td></tr>
            """
        }
        return """
        <table class="data" data-testid="cost-table"><thead><tr><th>\(options.dimension.title)</th><th class="num">Requests</th>\
        <th class="num">Errors</th><th class="num">Input tokens</th><th class="num">Output tokens</th><th class="num">Cost</th></tr>\
        </thead><tbody>\(body)<tr class="total"><td><strong>Total</strong></td><td class="num">\(Money.count(series.total.requests))</td>\
        <td class="num">\(Money.count(series.total.errors))</td><td class="num">\(Money.count(series.total.inputTokens + series.total.cachedInputTokens))</td>\
        <td class="num">\(Money.count(series.total.outputTokens))</td><td class="num">\(Money.html(series.total.costUsd))</td></tr></tbody></table>
        """
    }

    /// The costliest traces of the range, each linking to its waterfall.
    func costliestTraces() -> HTML {
        let body: HTML = topTraces.isEmpty ? Layout.empty("None.") : """
        <table class="data" data-testid="top-traces"><tbody>\(topTraces.map { entry -> HTML in
            let name = entry.traceName.isEmpty ? String(entry.traceID.prefix(12)) + "…" : entry.traceName
            return "<tr><td><a href=\"/ui/traces/\(entry.traceID)\">\(name)</a></td><td class=\"num\">\(Money.count(entry.totals.requests)) LLM</td><td class=\"num\">\(Money.html(entry.totals.costUsd))</td></tr>"
        })</tbody></table>
        """
        return "<div class=\"card\"><h3>Costliest traces</h3>\(body)</div>"
    }

    func top(_ title: String, _ entries: [Llmlab_V1_CostGroup], testID: String, label: (Llmlab_V1_CostGroup) -> String) -> HTML {
        let body: HTML = entries.isEmpty ? Layout.empty("None.") : """
        <table class="data" data-testid="\(testID)"><tbody>\(entries.map { entry -> HTML in
            "<tr><td>\(label(entry))</td><td class=\"num\">\(Money.count(entry.totals.requests)) req</td><td class=\"num\">\(Money.html(entry.totals.costUsd))</td></tr>"
        })</tbody></table>
        """
        return "<div class=\"card\"><h3>\(title)</h3>\(body)</div>"
    }
}
