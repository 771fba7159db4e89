import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `/ui/traces`: the tenant's traces, newest first, with every ListTraces filter and
/// cursor paging. One RPC.
extension DashboardController {
    func traces(_ session: DashboardSession, query: FormData) async throws -> HTML {
        let filters = TraceFilters(query)
        var notice: Notice?
        var response = Llmlab_V1_ListTracesResponse()
        do {
            response = try await rpc.traces.listTraces(filters.request(), metadata: session.metadata, options: rpc.options)
        } catch let error as RPCError where error.code == .invalidArgument {
            // A malformed filter (e.g. min cost "abc"): the form again, with the reason.
            notice = .error(error.message)
        }
        let view = TracesView(filters: filters, traces: response.traces, nextPageToken: response.nextPageToken, notice: notice)
        return Layout.page(title: "Traces", section: .traces, session: session, content: view.render())
    }
}

/// The trace list's filters as they travel in the query string.
struct TraceFilters {
    static let windows: [(String, String, TimeInterval?)] = [("1h", "Last hour", 3600), ("24h", "Last 24 hours", 86_400),
                                                             ("7d", "Last 7 days", 604_800), ("30d", "Last 30 days", 2_592_000),
                                                             ("all", "Any time", nil)]
    var since: String
    var status: String
    var model: String
    var user: String
    var session: String
    var minCost: String
    var minDuration: String
    var name: String
    var pageToken: String

    init(_ query: FormData) {
        since = Self.windows.contains { $0.0 == query["since"] } ? query["since"] : "7d"
        status = ["ok", "error"].contains(query["status"]) ? query["status"] : ""
        model = query["model"]
        user = query["user"]
        session = query["session"]
        minCost = query["min_cost"]
        minDuration = query["min_duration_ms"]
        name = query["name"]
        pageToken = query["page"]
    }

    func request(now: Date = Date()) -> Llmlab_V1_ListTracesRequest {
        .with {
            if let window = Self.windows.first(where: { $0.0 == since })?.2 {
                $0.since = UTCTime.timestamp(now.addingTimeInterval(-window))
            }
            $0.status = status == "ok" ? .ok : status == "error" ? .error : .unspecified
            $0.model = model
            $0.userID = user
            $0.sessionID = session
            $0.minCostUsd = minCost
            // Not a number: sent as -1 so the control plane names the field.
            $0.minDurationMs = minDuration.isEmpty ? 0 : Int64(minDuration) ?? -1
            $0.nameContains = name
            $0.pageSize = 50
            $0.pageToken = pageToken
        }
    }

    /// The query string of these filters (without the page), for links.
    var pairs: [(String, String)] {
        [("since", since), ("status", status), ("model", model), ("user", user), ("session", session),
         ("min_cost", minCost), ("min_duration_ms", minDuration), ("name", name)]
    }
}

struct TracesView {
    var filters: TraceFilters
    var traces: [Llmlab_V1_TraceSummary]
    var nextPageToken: String
    var notice: Notice?

    func render() -> HTML {
        "<h1>Traces</h1>\(Layout.banner(notice))\(form())\(table())\(pager())"
    }

    func form() -> HTML {
        let windows = TraceFilters.windows.map { window -> HTML in
            "<option value=\"\(window.0)\"\(window.0 == filters.since ? " selected" : "")>\(window.1)</option>"
        }
        let statuses = [("", "Any status"), ("ok", "OK"), ("error", "Error")].map { option -> HTML in
            "<option value=\"\(option.0)\"\(option.0 == filters.status ? " selected" : "")>\(option.1)</option>"
        }
        return """
        <form method="get" action="/ui/traces" class="filters" data-testid="trace-filters">\
        <label>Since <select name="since">\(windows)</select></label>\
        <label>Status <select name="status">\(statuses)</select></label>\
        <label>Name contains <input name="name" value="\(filters.name)" size="14"></label>\
        <label>Model <input name="model" value="\(filters.model)" size="14"></label>\
        <label>User <input name="user" value="\(filters.user)" size="10"></label>\
        <label>Session <input name="session" value="\(filters.session)" size="10"></label>\
        <label>Min cost (USD) <input name="min_cost" value="\(filters.minCost)" size="7" inputmode="decimal"></label>\
        <label>Min duration (ms) <input name="min_duration_ms" value="\(filters.minDuration)" size="7" inputmode="numeric"></label>\
        <button type="submit" class="primary">Filter</button> <a href="/ui/traces">Reset</a></form>
        """
    }

    func table() -> HTML {
        guard !traces.isEmpty else { return Layout.empty("No traces match these filters.") }
        let rows = traces.map { trace -> HTML in
            let status: HTML = trace.status == .error ? "<span class=\"pill bad\">error</span>" : "<span class=\"pill ok\">ok</span>"
            let name = trace.rootName.isEmpty ? "(unnamed)" : trace.rootName
            return """
            <tr data-testid="trace-row" data-trace-id="\(trace.traceID)"><td>\(UTCTime.html(trace.startTime, seconds: true))</td>\
            <td><a href="/ui/traces/\(trace.traceID)">\(name)</a></td><td>\(status)</td>\
            <td class="num">\(UTCTime.duration(microseconds: trace.durationUs))</td><td class="num">\(trace.spanCount)</td>\
            <td class="num">\(trace.llmCallCount)</td><td class="num">\(Money.html(trace.totalCostUsd))</td>\
            <td class="clip">\(trace.models.joined(separator: ", "))</td><td>\(trace.userID)</td><td class="clip">\(trace.sessionID)</td></tr>
            """
        }
        return """
        <table class="data" data-testid="trace-table"><thead><tr><th>Started (UTC)</th><th>Name</th><th>Status</th>\
        <th class="num">Duration</th><th class="num">Spans</th><th class="num">LLM calls</th><th class="num">Cost</th>\
        <th>Models</th><th>User</th><th>Session</th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }

    func pager() -> HTML {
        let first: HTML = filters.pageToken.isEmpty ? "<span></span>"
            : "<a href=\"/ui/traces\(Escape.queryString(filters.pairs))\" data-testid=\"first-page\">« Newest</a>"
        let next: HTML = nextPageToken.isEmpty ? "<span></span>"
            : "<a href=\"/ui/traces\(Escape.queryString(filters.pairs + [("page", nextPageToken)]))\" data-testid=\"next-page\">Older »</a>"
        return "<nav class=\"pager\">\(first)\(next)</nav>"
    }
}
