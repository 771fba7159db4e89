import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `trace …`: traces of LLM calls, tool calls and agent steps, and why one failed.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "List traces, show one as a waterfall, and explain why it failed.",
        subcommands: [List.self, Show.self, Explain.self]
    )

    /// `--status ok|error`.
    enum StatusArgument: String, CaseIterable, ExpressibleByArgument {
        case ok, error

        var wire: Llmlab_V1_TraceStatus { self == .ok ? .ok : .error }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List traces, newest first.")

        @Option(help: ArgumentHelp("Only this project.", valueName: "id"))
        var project: String?

        @Option(help: "Only traces with (error) or without (ok) a failing span.")
        var status: StatusArgument?

        @Option(help: ArgumentHelp("Only traces that called this model (as requested or as reported).", valueName: "model"))
        var model: String?

        @Option(help: ArgumentHelp("Only this end user's traces.", valueName: "id"))
        var user: String?

        @Option(help: ArgumentHelp("Only this session's traces.", valueName: "id"))
        var session: String?

        @Option(name: .customLong("min-cost"), help: ArgumentHelp("Only traces that cost at least this many USD, e.g. 0.05.", valueName: "usd"))
        var minCost: USDArgument?

        @Option(name: .customLong("min-duration-ms"), help: ArgumentHelp("Only traces that lasted at least this long.", valueName: "ms"))
        var minDurationMs: Int64?

        @Option(help: ArgumentHelp("Only traces whose root span's name contains this (case-insensitive).", valueName: "text"))
        var name: String?

        @Option(help: ArgumentHelp("Continue after a previous listing (the token it printed).", valueName: "token"))
        var after: String?

        @OptionGroup var window: TimeWindowOptions

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if let minDurationMs, minDurationMs < 0 { throw ValidationError("--min-duration-ms must be 0 or more") }
        }

        func run() async throws {
            let base = Llmlab_V1_ListTracesRequest.with {
                $0.projectID = project ?? ""
                $0.status = status?.wire ?? .unspecified
                $0.model = model ?? ""
                $0.userID = user ?? ""
                $0.sessionID = session ?? ""
                $0.minCostUsd = minCost?.decimal ?? ""
                $0.minDurationMs = minDurationMs ?? 0
                $0.nameContains = name ?? ""
                if let since = window.since { $0.since = since.timestamp }
                if let until = window.until { $0.until = until.timestamp }
            }
            let (traces, next) = try await global.withAuthenticatedClient { client in
                try await Pager.collectPage(limit: page.limit, startingAt: after ?? "") { token, size in
                    var request = base
                    request.pageToken = token
                    request.pageSize = size
                    let page = try await client.traces.listTraces(request, metadata: client.metadata, options: client.options)
                    return (page.traces, page.nextPageToken)
                }
            }
            try global.output.emitList(traces, emptyText: "No traces.") { traces in
                var table = Table("TRACE", "STARTED", "ROOT", "STATUS", "DURATION", "SPANS", "ERRORS", "LLM", "COST USD", "MODELS")
                for trace in traces {
                    table.add(
                        trace.traceID, Display.timestamp(trace.startTime, isSet: trace.hasStartTime), Display.text(trace.rootName),
                        TraceView.status(trace.status), Waterfall.duration(micros: trace.durationUs),
                        String(trace.spanCount), String(trace.errorCount), String(trace.llmCallCount),
                        TraceView.cost(trace), Display.list(trace.models))
                }
                return table
            }
            if !next.isEmpty {
                Terminal.note("More traces: pass --after \(next)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a trace: its summary and a waterfall of its spans.")

        @Argument(help: "The trace's id (32 hex digits, as `trace list` shows it).")
        var traceID: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_GetTraceRequest.with { $0.traceID = traceID }
            let trace = try await global.withAuthenticatedClient { client in
                try await client.traces.getTrace(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(trace) {
                TraceView.details(trace.summary).print()
                print("")
                print(Waterfall.render(trace.spans, totalMicros: trace.summary.durationUs), terminator: "")
                let failures = trace.spans.filter(\.isError)
                if !failures.isEmpty {
                    print("")
                    for span in failures {
                        let message = span.errorMessage.isEmpty ? Display.list(span.errorFlags) : span.errorMessage
                        print("✗ \(Waterfall.label(span).trimmingWhitespace()) (span \(span.spanID)): \(message)")
                    }
                }
            }
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain a trace: the first failing span, what led there, retries and fallbacks.")

        @Argument(help: "The trace's id (32 hex digits, as `trace list` shows it).")
        var traceID: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ExplainTraceRequest.with { $0.traceID = traceID }
            let explanation = try await global.withAuthenticatedClient { client in
                try await client.traces.explainTrace(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(explanation) {
                print(explanation.summary)
                if !explanation.evidence.isEmpty {
                    print("")
                    print("Evidence:")
                    for line in explanation.evidence { print("  - \(line)") }
                }
            }
        }
    }
}

/// How trace summaries read.
enum TraceView {
    static func status(_ status: Llmlab_V1_TraceStatus) -> String {
        switch status {
        case .ok: "ok"
        case .error: "error"
        case .unspecified: Display.none
        case .UNRECOGNIZED(let raw): "status(\(raw))"
        }
    }

    static func cost(_ trace: Llmlab_V1_TraceSummary) -> String {
        let cost = trace.totalCostUsd.isEmpty ? "unpriced" : trace.totalCostUsd
        return trace.unpricedSpanCount > 0 && !trace.totalCostUsd.isEmpty ? "\(cost) (+\(trace.unpricedSpanCount) unpriced)" : cost
    }

    static func details(_ trace: Llmlab_V1_TraceSummary) -> Details {
        var details = Details()
        details.add("trace", trace.traceID)
        details.add("project", trace.projectID)
        details.add("root", Display.text(trace.rootName))
        details.add("status", status(trace.status))
        details.add("started", Display.timestamp(trace.startTime, isSet: trace.hasStartTime))
        details.add("duration", Waterfall.duration(micros: trace.durationUs))
        details.add("spans", "\(trace.spanCount) (\(trace.errorCount) failed, \(trace.llmCallCount) LLM \(trace.llmCallCount == 1 ? "call" : "calls"))")
        details.add("cost", trace.totalCostUsd.isEmpty ? "unpriced" : "$\(trace.totalCostUsd)")
        if trace.unpricedSpanCount > 0 { details.add("unpriced spans", String(trace.unpricedSpanCount)) }
        let tokens = trace.tokens
        details.add("tokens", "in \(tokens.uncachedInputTokens), cached \(tokens.cacheReadTokens), "
            + "cache write \(tokens.cacheWrite5MTokens + tokens.cacheWrite1HTokens), out \(tokens.outputTokens), "
            + "reasoning \(tokens.reasoningTokens)")
        details.add("models", Display.list(trace.models))
        if !trace.userID.isEmpty { details.add("user", trace.userID) }
        if !trace.sessionID.isEmpty { details.add("session", trace.sessionID) }
        if !trace.serviceName.isEmpty { details.add("service", trace.serviceName) }
        return details
    }
}

extension ControlClient {
    var traces: Llmlab_V1_TraceQueryService.Client<Transport> { .init(wrapping: client) }
}
