import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `/ui/billing`: invoice reconciliation — what LLMLab tracked against what each provider
/// billed, per provider, UTC day and model, with the differences above the threshold
/// flagged; plus the billing connections and their recent syncs. Three RPCs, concurrent.
extension DashboardController {
    func billing(_ session: DashboardSession, query: FormData) async throws -> HTML {
        let options = BillingOptions(query)
        let metadata = session.metadata
        async let reconciliation = rpc.billing.getReconciliation(.with {
            $0.fromDate = options.from
            $0.toDate = options.to
            $0.provider = options.provider
            $0.thresholdPercent = options.threshold
        }, metadata: metadata, options: rpc.options)
        async let connections = rpc.billing.listConnections(.init(), metadata: metadata, options: rpc.options)
        async let runs = rpc.billing.listSyncRuns(.with { $0.limit = 10 }, metadata: metadata, options: rpc.options)
        var view = BillingView(options: options, connections: try await connections.connections, runs: try await runs.runs)
        do {
            view.reconciliation = try await reconciliation
        } catch let error as RPCError where error.code == .invalidArgument {
            // A bad date or threshold is a filter to fix, not an error page.
            view.notice = .error(error.message)
        }
        return Layout.page(title: "Billing", section: .billing, session: session, content: view.render())
    }
}

/// The billing page's query string; the RPC validates it (bad values come back as a notice).
struct BillingOptions {
    var from: String
    var to: String
    var provider: String
    var threshold: String

    init(_ query: FormData, now: Date = Date()) {
        from = query["from"].isEmpty ? UTCTime.day(UTCTime.monthStart(now)) : query["from"]
        to = query["to"].isEmpty ? UTCTime.day(now) : query["to"]
        provider = query["provider"]
        threshold = query["threshold"].isEmpty ? "5" : query["threshold"]
    }
}

struct BillingView {
    var options: BillingOptions
    var connections: [Llmlab_V1_BillingConnection]
    var runs: [Llmlab_V1_BillingSyncRun]
    var reconciliation: Llmlab_V1_GetReconciliationResponse?
    var notice: Notice?

    func render() -> HTML {
        """
        <h1>Billing</h1>\(Layout.banner(notice))\(filters())
        <section><h2>Tracked vs billed, per provider</h2>\(totals())</section>
        <section><h2>Per day and model</h2>\(rows())</section>
        <section><h2>Connections</h2>\(connectionTable())</section>
        <section><h2>Recent syncs and imports</h2>\(runTable())</section>
        """
    }

    func filters() -> HTML {
        let providers = ["", "openai", "anthropic", "azure_openai", "gemini"].map { value -> HTML in
            "<option value=\"\(value)\"\(value == options.provider ? " selected" : "")>\(value.isEmpty ? "All providers" : value)</option>"
        }
        return """
        <form method="get" action="/ui/billing" class="filters" data-testid="billing-filters">\
        <label>From <input type="date" name="from" value="\(options.from)"></label>\
        <label>To <input type="date" name="to" value="\(options.to)"></label>\
        <label>Provider <select name="provider">\(providers)</select></label>\
        <label>Flag above (%) <input type="text" name="threshold" value="\(options.threshold)" size="4"></label>\
        <button type="submit">Reconcile</button></form>
        """
    }

    static func side(_ side: Llmlab_V1_ReconciliationSide) -> String {
        switch side {
        case .trackedOnly: "tracked only"
        case .billedOnly: "billed only"
        default: ""
        }
    }

    func totals() -> HTML {
        guard let reconciliation, !reconciliation.totals.isEmpty else {
            return Layout.empty("Nothing tracked or billed in this range. Connect a provider or import a billing export (llmlab-admin billing …).")
        }
        let body = reconciliation.totals.map { row -> HTML in
            """
            <tr data-testid="billing-total" data-provider="\(row.provider)"\(row.flagged ? HTML(" class=\"flagged\"") : HTML.empty)><td>\(row.provider)</td>\
            <td class="num">\(Money.html(row.trackedUsd))</td><td class="num">\(Money.html(row.billedUsd))</td>\
            <td class="num">\(Money.html(row.differenceUsd))</td><td class="num">\(row.differencePercent.isEmpty ? "—" : row.differencePercent + "%")</td>\
            <td>\(row.flagged ? HTML("<span class=\"pill bad\">check</span>") : HTML("<span class=\"pill ok\">ok</span>"))</td></tr>
            """
        }
        return """
        <table class="data" data-testid="billing-totals"><thead><tr><th>Provider</th><th class="num">Tracked</th>\
        <th class="num">Billed</th><th class="num">Billed − tracked</th><th class="num">%</th><th></th></tr></thead>\
        <tbody>\(body)</tbody></table>\
        <p class="sub">Flagged when the difference is above \(reconciliation.thresholdPercent)% of the bill and at least \
        \(Money.html(reconciliation.minimumDifferenceUsd)).</p>
        """
    }

    func rows() -> HTML {
        guard let reconciliation, !reconciliation.rows.isEmpty else { return Layout.empty("No rows.") }
        let body = reconciliation.rows.map { row -> HTML in
            """
            <tr data-testid="billing-row"\(row.flagged ? HTML(" class=\"flagged\"") : HTML.empty)><td>\(row.day)</td><td>\(row.provider)</td>\
            <td>\(row.model.isEmpty ? "(not attributed)" : row.model)</td>\
            <td class="num">\(Money.html(row.trackedUsd))</td><td class="num">\(Money.html(row.billedUsd))</td>\
            <td class="num">\(Money.html(row.differenceUsd))</td><td class="num">\(row.differencePercent.isEmpty ? "—" : row.differencePercent + "%")</td>\
            <td>\(row.flagged ? HTML("<span class=\"pill bad\">flagged</span>") : HTML.empty) \(Self.side(row.side))</td></tr>
            """
        }
        return """
        <table class="data" data-testid="billing-rows"><thead><tr><th>Day</th><th>Provider</th><th>Model</th>\
        <th class="num">Tracked</th><th class="num">Billed</th><th class="num">Billed − tracked</th><th class="num">%</th><th></th>\
        </tr></thead><tbody>\(body)</tbody></table>
        """
    }

    func connectionTable() -> HTML {
        guard !connections.isEmpty else {
            return Layout.empty("No billing connections. Add one with llmlab-admin billing connect openai|anthropic|azure, or import a CSV export with llmlab-admin billing import.")
        }
        let body = connections.map { connection -> HTML in
            let status: HTML = switch connection.lastSyncStatus {
            case .succeeded: "<span class=\"pill ok\">synced</span>"
            case .failed: "<span class=\"pill bad\">failed</span>"
            default: "<span class=\"pill muted\">never</span>"
            }
            return """
            <tr data-testid="billing-connection"><td>\(connection.name)</td><td>\(String(describing: connection.kind).lowercased())</td>\
            <td>…\(connection.credentialLastFour)</td><td>\(connection.schedule == .hourly ? "hourly" : "daily")\(connection.disabled ? " (disabled)" : "")</td>\
            <td>\(status) \(connection.lastSyncError)</td>\
            <td>\(connection.hasLastSyncAt ? UTCTime.minute(connection.lastSyncAt.date) : "—")</td></tr>
            """
        }
        return """
        <table class="data" data-testid="billing-connections"><thead><tr><th>Name</th><th>Kind</th><th>Credential</th>\
        <th>Schedule</th><th>Last sync</th><th>At (UTC)</th></tr></thead><tbody>\(body)</tbody></table>
        """
    }

    func runTable() -> HTML {
        guard !runs.isEmpty else { return Layout.empty("No syncs or imports yet.") }
        let body = runs.map { run -> HTML in
            """
            <tr data-testid="billing-run"><td>\(UTCTime.minute(run.startedAt.date))</td><td>\(run.source)</td><td>\(run.trigger)</td>\
            <td>\(run.fromDate) – \(run.toDate)</td><td>\(run.status)</td><td class="num">\(Int64(run.lines))</td></tr>
            """
        }
        return """
        <table class="data" data-testid="billing-runs"><thead><tr><th>Started (UTC)</th><th>Source</th><th>Trigger</th>\
        <th>Days</th><th>Status</th><th class="num">Lines</th></tr></thead><tbody>\(body)</tbody></table>
        """
    }
}
