import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `/ui/traces/{id}`: the span waterfall (bars placed by offset and duration, nested by
/// parent) and the root-cause explanation. Two RPCs, concurrently; an id the caller may
/// not see is NOT_FOUND from the control plane, shown as the 404 page.
extension DashboardController {
    func trace(_ session: DashboardSession, id: String) async throws -> HTML {
        // Trace ids are 32 hex digits; anything else cannot exist.
        guard id.utf8.count == 32, id.allSatisfy(\.isHexDigit) else { throw DashboardError.notFound }
        let traceID = id.lowercased()
        async let trace = rpc.traces.getTrace(.with { $0.traceID = traceID }, metadata: session.metadata, options: rpc.options)
        async let explanation = rpc.traces.explainTrace(.with { $0.traceID = traceID }, metadata: session.metadata, options: rpc.options)
        let view = TraceDetailView(trace: try await trace, explanation: try await explanation)
        let title = view.trace.summary.rootName.isEmpty ? "Trace" : view.trace.summary.rootName
        return Layout.page(title: title, section: .traces, session: session, content: view.render())
    }
}

struct TraceDetailView {
    var trace: Llmlab_V1_GetTraceResponse
    var explanation: Llmlab_V1_ExplainTraceResponse

    static func category(_ category: Llmlab_V1_SpanCategory) -> String {
        switch category {
        case .llm: "llm"
        case .tool: "tool"
        case .agent: "agent"
        case .chain: "chain"
        case .retriever: "retriever"
        case .embedding: "embedding"
        default: "other"
        }
    }

    func render() -> HTML {
        let summary = trace.summary
        let status: HTML = summary.status == .error ? "<span class=\"pill bad\">error</span>" : "<span class=\"pill ok\">ok</span>"
        let tokens = summary.tokens
        return """
        <p><a href="/ui/traces">« Traces</a></p>
        <h1><span data-testid="trace-name">\(summary.rootName.isEmpty ? "(unnamed)" : summary.rootName)</span> \(status)</h1>
        <section class="cards">\
        <div class="card"><h3>Cost</h3><p class="figure">\(Money.html(summary.totalCostUsd, id: "trace-cost"))</p>\
        <p class="sub">\(summary.unpricedSpanCount) unpriced LLM span\(summary.unpricedSpanCount == 1 ? "" : "s")</p></div>\
        <div class="card"><h3>Duration</h3><p class="figure" data-testid="trace-duration">\(UTCTime.duration(microseconds: summary.durationUs))</p>\
        <p class="sub">started \(UTCTime.html(summary.startTime, seconds: true)) UTC</p></div>\
        <div class="card"><h3>Spans</h3><p class="figure num">\(summary.spanCount)</p>\
        <p class="sub">\(summary.errorCount) failed · \(summary.llmCallCount) LLM calls</p></div>\
        <div class="card"><h3>Tokens</h3><p class="figure num">\(Money.count(tokens.uncachedInputTokens + tokens.cacheReadTokens + tokens.outputTokens))</p>\
        <p class="sub">\(Money.count(tokens.uncachedInputTokens)) in · \(Money.count(tokens.cacheReadTokens)) cached · \(Money.count(tokens.outputTokens)) out</p></div>\
        </section>
        <p class="muted mono">trace \(summary.traceID)\(summary.serviceName.isEmpty ? "" : " · service " + summary.serviceName)\
        \(summary.userID.isEmpty ? "" : " · user " + summary.userID)\(summary.sessionID.isEmpty ? "" : " · session " + summary.sessionID)</p>
        <section><h2>What happened</h2>\(explain())</section>
        <section><h2>Waterfall</h2>\(waterfall())</section>
        """
    }

    func explain() -> HTML {
        let e = explanation
        var body: HTML = "<p data-testid=\"explain-summary\">\(e.summary)</p>"
        if e.hasRootCause {
            let cause = e.rootCause
            body += """
            <p data-testid="explain-root-cause"><strong>Root cause:</strong> <a href="#span-\(cause.spanID)">\(cause.name)</a>\
            \(cause.errorMessage.isEmpty ? "" : " — " + cause.errorMessage)</p>
            """
        }
        if !e.errorFlags.isEmpty { body += "<p><strong>Flags:</strong> \(e.errorFlags.joined(separator: ", "))</p>" }
        if e.hasLedByLlmCall {
            body += "<p><strong>Led by:</strong> <a href=\"#span-\(e.ledByLlmCall.spanID)\">\(e.ledByLlmCall.name)</a> (\(e.ledByLlmCall.model))</p>"
        }
        if !e.retries.isEmpty { body += "<p><strong>Retries:</strong> \(e.retries.count)</p>" }
        if !e.fallbacks.isEmpty {
            body += "<p><strong>Fallbacks:</strong> \(e.fallbacks.map { "\($0.name) (\($0.model))" }.joined(separator: ", "))</p>"
        }
        if !e.evidence.isEmpty {
            body += "<ul data-testid=\"explain-evidence\">\(e.evidence.map { line -> HTML in "<li>\(line)</li>" })</ul>"
        }
        return "<div class=\"explain\(e.failed || e.hasError_p ? " failed" : "")\" id=\"explain\" data-testid=\"explain\">\(body)</div>"
    }

    func waterfall() -> HTML {
        guard !trace.spans.isEmpty else { return Layout.empty("This trace has no spans.") }
        let total = max(Double(trace.summary.durationUs), Double(trace.spans.map { $0.offsetUs + $0.durationUs }.max() ?? 1), 1)
        let rows = trace.spans.map { span -> HTML in
            let x = Double(span.offsetUs) / total * 1000
            let width = max(Double(span.durationUs) / total * 1000, 2)
            let kind = Self.category(span.category)
            let model = span.responseModel.isEmpty ? span.requestModel : span.responseModel
            let tokens = span.tokens.uncachedInputTokens + span.tokens.cacheReadTokens + span.tokens.outputTokens
            let detail = detailRow(span, model: model)
            return """
            <tr class="span-row\(span.isError ? " is-error" : "")" id="span-\(span.spanID)" data-testid="waterfall-row" \
            data-span-id="\(span.spanID)" data-parent-id="\(span.parentSpanID)" data-depth="\(span.depth)">\
            <td class="name depth-\(min(Int(span.depth), 24))">\(span.name)</td><td><span class="pill">\(kind)</span></td>\
            <td>\(span.isError ? "<span class=\"pill bad\">error</span>" as HTML : "ok")</td>\
            <td class="clip">\(model)</td><td class="num">\(tokens == 0 ? "" : Money.count(tokens))</td>\
            <td class="num">\(Money.html(span.costUsd))</td><td class="num">\(UTCTime.duration(microseconds: span.durationUs))</td>\
            <td class="bar"><svg viewBox="0 0 1000 14" preserveAspectRatio="none" aria-hidden="true">\
            <rect class="lane" x="0" y="2" width="1000" height="10"/>\
            <rect class="k-\(kind)\(span.isError ? " err" : "")" x="\(geometry: x)" y="2" width="\(geometry: min(width, 1000 - x))" height="10">\
            <title>\(span.name): starts +\(UTCTime.duration(microseconds: span.offsetUs)), lasts \(UTCTime.duration(microseconds: span.durationUs))</title></rect></svg></td></tr>\(detail)
            """
        }
        return """
        <table class="data waterfall" data-testid="waterfall" id="waterfall"><thead><tr><th>Span</th><th>Kind</th><th>Status</th>\
        <th>Model / tool</th><th class="num">Tokens</th><th class="num">Cost</th><th class="num">Duration</th><th>Timeline</th></tr></thead>\
        <tbody>\(rows)</tbody></table>
        """
    }

    /// The span's details, hidden until its row is clicked (app.js; without script they stay hidden but
    /// the row's essentials are shown).
    func detailRow(_ span: Llmlab_V1_Span, model: String) -> HTML {
        var facts: [HTML] = []
        if !span.errorMessage.isEmpty { facts.append("<p><strong>Error:</strong> \(span.errorMessage)</p>") }
        if !span.errorFlags.isEmpty { facts.append("<p><strong>Flags:</strong> \(span.errorFlags.joined(separator: ", "))</p>") }
        if !span.provider.isEmpty { facts.append("<p><strong>Provider:</strong> \(span.provider) · requested \(span.requestModel) · reported \(span.responseModel)</p>") }
        if !span.toolName.isEmpty { facts.append("<p><strong>Tool:</strong> \(span.toolName)</p>") }
        if !span.finishReason.isEmpty { facts.append("<p><strong>Finish reason:</strong> \(span.finishReason)</p>") }
        if !span.unpricedReason.isEmpty { facts.append("<p><strong>Unpriced:</strong> \(span.unpricedReason)</p>") }
        if !span.reportedCostUsd.isEmpty { facts.append("<p><strong>Reported cost:</strong> \(Money.html(span.reportedCostUsd))</p>") }
        let t = span.tokens
        if t.uncachedInputTokens + t.cacheReadTokens + t.outputTokens + t.reasoningTokens > 0 {
            facts.append("<p><strong>Tokens:</strong> \(Money.count(t.uncachedInputTokens)) in · \(Money.count(t.cacheReadTokens)) cache read · \(Money.count(t.cacheWrite5MTokens + t.cacheWrite1HTokens)) cache write · \(Money.count(t.outputTokens)) out · \(Money.count(t.reasoningTokens)) reasoning</p>")
        }
        if span.attributesJson.count > 2 { facts.append("<p><strong>Attributes</strong></p><pre>\(span.attributesJson)</pre>") }
        if span.eventsJson.count > 2 { facts.append("<p><strong>Events</strong></p><pre>\(span.eventsJson)</pre>") }
        if !span.contentJson.isEmpty { facts.append("<p><strong>Content</strong></p><pre>\(span.contentJson)</pre>") }
        return """
        <tr class="span-detail" id="detail-\(span.spanID)" data-testid="span-detail" hidden><td colspan="8">\(facts)</td></tr>
        """
    }
}
