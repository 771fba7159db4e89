import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `/ui/models`: error rate and latency percentiles per model over a range (ModelHealth,
/// from the rollup's latency histogram). One RPC.
extension DashboardController {
    func models(_ session: DashboardSession, query: FormData) async throws -> HTML {
        let options = CostOptions(query)
        let response = try await rpc.analytics.modelHealth(.with {
            $0.filter = .with {
                $0.since = UTCTime.timestamp(options.since)
                $0.until = UTCTime.timestamp(options.until)
            }
        }, metadata: session.metadata, options: rpc.options)
        let view = ModelsView(options: options, models: response.models)
        return Layout.page(title: "Models", section: .models, session: session, content: view.render())
    }
}

struct ModelsView {
    var options: CostOptions
    var models: [Llmlab_V1_ModelHealth]

    func render() -> HTML {
        let ranges = CostOptions.ranges.map { option -> HTML in
            "<option value=\"\(option.0)\"\(option.0 == options.range ? " selected" : "")>\(option.1)</option>"
        }
        let form: HTML = """
        <form method="get" action="/ui/models" class="filters" data-testid="model-filters">\
        <label>Range <select name="range" data-autosubmit>\(ranges)</select></label><button type="submit">Apply</button></form>
        """
        return "<h1>Models</h1>\(form)\(table())"
    }

    /// "2.5%" from a ratio, to one decimal (display only).
    static func percent(_ ratio: Double) -> String { Escape.number((ratio * 1000).rounded() / 10) + "%" }

    func table() -> HTML {
        guard !models.isEmpty else { return Layout.empty("No requests in this range.") }
        let slowest = Double(models.map(\.latencyP99Ms).max() ?? 1)
        let rows = models.map { model -> HTML in
            let tone = model.errorRate >= 0.05 ? "bad" : model.errorRate >= 0.01 ? "warn" : "ok"
            let scale = max(slowest, 1)
            return """
            <tr data-testid="model-row" data-model="\(model.model)"><td>\(model.model)</td><td>\(model.provider)</td>\
            <td class="num">\(Money.count(model.requests))</td><td class="num">\(Money.count(model.errors))</td>\
            <td class="num"><span class="pill \(tone)" data-testid="error-rate">\(Self.percent(model.errorRate))</span></td>\
            <td class="num">\(Int64(model.meanLatencyMs.rounded())) ms</td>\
            <td class="num" data-testid="p50">\(model.latencyP50Ms) ms</td><td class="num" data-testid="p90">\(model.latencyP90Ms) ms</td>\
            <td class="num" data-testid="p99">\(model.latencyP99Ms) ms</td>\
            <td><svg class="latency" viewBox="0 0 200 14" width="200" height="14" aria-hidden="true">\
            <rect class="track" x="0" y="3" width="200" height="8" fill="#eef0f3"/>\
            <rect x="0" y="3" width="\(geometry: Double(model.latencyP90Ms) / scale * 200)" height="8" fill="#b9c9f2"/>\
            <rect x="0" y="3" width="\(geometry: Double(model.latencyP50Ms) / scale * 200)" height="8" fill="#2f5bd3"/>\
            <line x1="\(geometry: Double(model.latencyP99Ms) / scale * 200)" x2="\(geometry: Double(model.latencyP99Ms) / scale * 200)" \
            y1="0" y2="14" stroke="#c0392b" stroke-width="2"/></svg></td></tr>
            """
        }
        return """
        <table class="data" data-testid="model-table"><thead><tr><th>Model</th><th>Provider</th><th class="num">Requests</th>\
        <th class="num">Errors</th><th class="num">Error rate</th><th class="num">Mean</th><th class="num">p50</th>\
        <th class="num">p90</th><th class="num">p99</th><th>p50 · p90 · p99</th></tr></thead><tbody>\(rows)</tbody></table>
        <p class="muted">Percentiles are interpolated from the rollup's latency histogram; each is within its bucket's width.</p>
        """
    }
}
