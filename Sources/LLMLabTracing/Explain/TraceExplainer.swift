/// Why a trace failed, found from its spans alone.
public struct TraceExplanation: Sendable, Hashable {
    public var traceID: String
    /// Some span failed.
    public var hasError: Bool
    /// A root span failed: the run did not recover.
    public var failed: Bool
    /// The first failing span in time whose failure no failing descendant explains.
    public var rootCause: NormalizedSpan?
    /// The root cause's ancestors, parent first, up to the root.
    public var ancestors: [NormalizedSpan]
    /// The last LLM call that ended before the root cause started, in the nearest
    /// enclosing agent/parent that has one (e.g. the model that chose the failing tool).
    public var ledByLLMCall: NormalizedSpan?
    /// Later attempts of the failed step (same tool or name), in start order.
    public var retries: [NormalizedSpan]
    /// Later sibling LLM calls to another model or provider after a failed LLM call.
    public var fallbacks: [NormalizedSpan]
    /// LLM spans that stopped at their token limit.
    public var tokenLimited: [NormalizedSpan]
    /// One plain-language paragraph.
    public var summary: String
    /// One fact per line.
    public var evidence: [String]
}

/// Finds the root cause of a trace and says it in plain language. Pure: no I/O.
///
/// Rules, in order:
/// - **Root cause**: among failing spans (`isError`) with no failing descendant, the one
///   whose *end* is earliest — the first failure to happen in time — then the earliest
///   start, then tree order. A failing parent whose failure comes from a failing child is
///   never the root cause; the child is.
/// - **Ancestors**: parent first, up to the root.
/// - **LLM call that led there**: walking up from the parent, the first ancestor whose
///   subtree holds an LLM span that ended at or before the root cause started; the latest
///   such span.
/// - **Retries**: later siblings of the failed step with the same tool name (tools) or the
///   same name and model (others). When the failed span itself has none, each failing
///   ancestor below the nearest agent is tried, so a retry of a wrapper counts.
/// - **Fallbacks**: after a failed LLM call, later sibling LLM calls with another model
///   or provider.
/// - **Token limits**: a token-limit finish alone is a warning, not a failure (the mapper
///   does not set `isError` for it); the summary names a truncated answer when it is the
///   LLM call that led to the failure or sits inside the failing span, and a healthy
///   trace's summary mentions any.
public enum TraceExplainer {
    public static func explain(_ spans: [NormalizedSpan]) -> TraceExplanation {
        explain(TraceTree(spans))
    }

    public static func explain(_ tree: TraceTree) -> TraceExplanation {
        let nodes = tree.nodes
        let traceID = nodes.first?.span.traceID ?? ""
        let tokenLimited = nodes.map(\.span).filter(isTokenLimited)
        let failed = tree.roots.contains { nodes[$0].span.isError }

        // Failing descendants, propagated child → parent (tree order puts children later).
        var failingBelow = [Bool](repeating: false, count: nodes.count)
        for index in nodes.indices.reversed() {
            if let parent = nodes[index].parent, nodes[index].span.isError || failingBelow[index] {
                failingBelow[parent] = true
            }
        }
        let candidates = nodes.indices.filter { nodes[$0].span.isError && !failingBelow[$0] }
        guard let causeIndex = candidates.min(by: { a, b in
            let x = nodes[a].span, y = nodes[b].span
            return (x.endTimeUnixNano, x.startTimeUnixNano, a) < (y.endTimeUnixNano, y.startTimeUnixNano, b)
        }) else {
            return TraceExplanation(
                traceID: traceID, hasError: false, failed: false, rootCause: nil, ancestors: [], ledByLLMCall: nil,
                retries: [], fallbacks: [], tokenLimited: tokenLimited,
                summary: healthySummary(tree, tokenLimited: tokenLimited),
                evidence: tokenLimited.map { "token limit: \(label($0)) (span \($0.spanID)) finished with `\(finishReasonText($0))`" })
        }

        let cause = nodes[causeIndex].span
        let ancestorIndices = tree.ancestors(of: causeIndex)
        let ancestors = ancestorIndices.map { nodes[$0].span }
        let ledBy = llmCallLeadingTo(causeIndex, in: tree)
        let (retried, retries) = retriesOf(causeIndex, in: tree)
        let fallbacks = cause.category == .llm ? fallbacksAfter(causeIndex, in: tree) : []

        let explained = Set([cause.spanID] + retries.map(\.spanID) + fallbacks.map(\.spanID)
                            + ancestors.map(\.spanID))
        let otherFailures = nodes.filter { $0.span.isError && !explained.contains($0.span.spanID) }.count

        var explanation = TraceExplanation(
            traceID: traceID, hasError: true, failed: failed, rootCause: cause, ancestors: ancestors, ledByLLMCall: ledBy,
            retries: retries, fallbacks: fallbacks, tokenLimited: tokenLimited, summary: "", evidence: [])
        explanation.summary = failureSummary(tree, explanation, retried: nodes[retried].span, otherFailures: otherFailures)
        explanation.evidence = evidence(tree, explanation, otherFailures: otherFailures)
        return explanation
    }

    // MARK: Finding

    static func llmCallLeadingTo(_ causeIndex: Int, in tree: TraceTree) -> NormalizedSpan? {
        let cause = tree.nodes[causeIndex].span
        let own = tree.subtree(of: causeIndex)
        let levels = tree.ancestors(of: causeIndex)
        for level in levels {
            let best = tree.subtree(of: level)
                .filter { !own.contains($0) && $0 != level }
                .map { tree.nodes[$0].span }
                .filter { $0.category == .llm && $0.endTimeUnixNano <= cause.startTimeUnixNano }
                .max { ($0.endTimeUnixNano, $0.startTimeUnixNano) < ($1.endTimeUnixNano, $1.startTimeUnixNano) }
            if let best { return best }
        }
        if levels.isEmpty {
            // A root that failed: an earlier root LLM call (traces without an agent span).
            return tree.nodes.indices.filter { !own.contains($0) }.map { tree.nodes[$0].span }
                .filter { $0.category == .llm && $0.endTimeUnixNano <= cause.startTimeUnixNano }
                .max { ($0.endTimeUnixNano, $0.startTimeUnixNano) < ($1.endTimeUnixNano, $1.startTimeUnixNano) }
        }
        return nil
    }

    /// The step that was retried (the cause or a failing wrapper of it) and its retries.
    static func retriesOf(_ causeIndex: Int, in tree: TraceTree) -> (Int, [NormalizedSpan]) {
        var steps = [causeIndex]
        for ancestor in tree.ancestors(of: causeIndex) {
            let span = tree.nodes[ancestor].span
            guard span.isError, span.category != .agent, tree.nodes[ancestor].parent != nil else { break }
            steps.append(ancestor)
        }
        for step in steps {
            let span = tree.nodes[step].span
            let retries = laterSiblings(of: step, in: tree).filter { sameStep($0, span) }
            if !retries.isEmpty { return (step, retries) }
        }
        return (causeIndex, [])
    }

    static func fallbacksAfter(_ causeIndex: Int, in tree: TraceTree) -> [NormalizedSpan] {
        let cause = tree.nodes[causeIndex].span
        return laterSiblings(of: causeIndex, in: tree).filter {
            $0.category == .llm && (model($0) != model(cause) || $0.provider != cause.provider)
        }
    }

    static func laterSiblings(of index: Int, in tree: TraceTree) -> [NormalizedSpan] {
        let siblings = tree.nodes[index].parent.map { tree.nodes[$0].children } ?? tree.roots
        guard let position = siblings.firstIndex(of: index) else { return [] }
        return siblings[(position + 1)...].map { tree.nodes[$0].span }
    }

    static func sameStep(_ candidate: NormalizedSpan, _ step: NormalizedSpan) -> Bool {
        guard candidate.category == step.category else { return false }
        if !step.toolName.isEmpty { return candidate.toolName == step.toolName }
        if step.category == .llm { return candidate.name == step.name && model(candidate) == model(step) && candidate.provider == step.provider }
        return candidate.name == step.name
    }

    static let tokenLimitReasons: Set<String> = ["length", "max_tokens", "max_output_tokens", "token_limit"]

    static func isTokenLimited(_ span: NormalizedSpan) -> Bool {
        span.errorFlags.contains(.tokenLimit) || tokenLimitReasons.contains(span.finishReason.lowercased())
    }

    // MARK: Wording

    /// The model a span used: as reported, else as requested.
    static func model(_ span: NormalizedSpan) -> String {
        span.responseModel.isEmpty ? span.requestModel : span.responseModel
    }

    static func kind(_ category: SpanCategory) -> String {
        switch category {
        case .llm: "LLM call"
        case .tool: "tool"
        case .agent: "agent"
        case .chain: "step"
        case .retriever: "retriever"
        case .embedding: "embedding call"
        case .other: "span"
        }
    }

    /// `tool `search_flights``, `LLM call `chat gpt-4o``.
    static func label(_ span: NormalizedSpan) -> String {
        "\(kind(span.category)) `\(name(span))`"
    }

    /// The tool's name for tools; an agent's name without the GenAI operation prefix
    /// (`invoke_agent travel-planner` → `travel-planner`); else the span's name.
    static func name(_ span: NormalizedSpan) -> String {
        if span.category == .tool, !span.toolName.isEmpty { return span.toolName }
        if span.category == .agent {
            for prefix in ["invoke_agent ", "create_agent "] where span.name.hasPrefix(prefix) && span.name.count > prefix.count {
                return String(span.name.dropFirst(prefix.count))
            }
        }
        return span.name
    }

    static func finishReasonText(_ span: NormalizedSpan) -> String {
        span.finishReason.isEmpty ? "token limit" : span.finishReason
    }

    /// What went wrong, without a trailing period.
    static func errorText(_ span: NormalizedSpan) -> String {
        var message = span.errorMessage.trimmingWhitespace()
        while message.hasSuffix(".") { message.removeLast() }
        if !message.isEmpty { return message }
        let flags = span.errorFlags
        if flags.contains(.timeout) { return "it timed out" }
        if flags.contains(.tokenLimit) || isTokenLimited(span) {
            return "the model stopped at its token limit (finish reason `\(finishReasonText(span))`)"
        }
        if flags.contains(.apiError) { return "the provider returned an error" }
        if flags.contains(.toolError) { return "the tool reported an error" }
        if flags.contains(.exception) { return "an exception was raised" }
        return "its status was error"
    }

    /// `450 ms`, `3.2 s`, `2 min 5 s`.
    public static func duration(nanos: UInt64) -> String {
        let millis = (nanos + 500_000) / 1_000_000
        if millis < 1_000 { return "\(millis) ms" }
        let tenths = (nanos + 50_000_000) / 100_000_000
        if tenths < 600 { return "\(tenths / 10).\(tenths % 10) s" }
        let seconds = (nanos + 500_000_000) / 1_000_000_000
        return seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds / 60) min \(seconds % 60) s"
    }

    static func times(_ count: Int) -> String {
        switch count {
        case 1: "once"
        case 2: "twice"
        default: "\(count) times"
        }
    }

    static func healthySummary(_ tree: TraceTree, tokenLimited: [NormalizedSpan]) -> String {
        guard !tree.isEmpty else { return "The trace has no spans." }
        let spanCount = tree.nodes.count
        let llmCount = tree.nodes.filter { $0.span.category == .llm }.count
        var text = "The trace completed without errors: \(spanCount) \(spanCount == 1 ? "span" : "spans"), "
            + "\(llmCount) \(llmCount == 1 ? "LLM call" : "LLM calls") in \(duration(nanos: tree.durationNanos))."
        if tokenLimited.count == 1, let span = tokenLimited.first {
            text += " Note that `\(span.name)` stopped at its token limit (finish reason `\(finishReasonText(span))`), "
                + "so its answer may be cut off."
        } else if tokenLimited.count > 1 {
            text += " Note that \(tokenLimited.count) LLM calls stopped at their token limit ("
                + tokenLimited.map { "`\($0.name)`" }.joined(separator: ", ") + "), so their answers may be cut off."
        }
        return text
    }

    static func failureSummary(_ tree: TraceTree, _ e: TraceExplanation, retried: NormalizedSpan, otherFailures: Int) -> String {
        guard let cause = e.rootCause else { return "" }
        var sentences: [String] = []
        let at = duration(nanos: tree.offsetNanos(of: cause))
        let verb = e.failed ? "The trace failed in" : "The trace recovered from a failure in"
        sentences.append("\(verb) \(label(cause)) (\(at) into the run): \(errorText(cause)).")

        // Who called it, and which model call led there.
        let caller = e.ancestors.first { $0.category == .agent } ?? e.ancestors.first
        let callerText = caller.map { "It was called by \(label($0))" }
        if let llm = e.ledByLLMCall {
            let asked = cause.category == .tool ? "after `\(llm.name)` asked for it" : "after `\(llm.name)`"
            sentences.append((callerText ?? "It ran") + " \(asked).")
        } else if let callerText {
            sentences.append(callerText + ".")
        }
        // A truncated answer just before (or inside) the failure is the likely culprit.
        if let llm = e.ledByLLMCall, isTokenLimited(llm) {
            sentences.append("`\(llm.name)` had stopped at its token limit (finish reason `\(finishReasonText(llm))`), "
                + "so its answer was cut off.")
        } else if let index = tree.index(of: cause.spanID),
                  let inner = tree.subtree(of: index).dropFirst().map({ tree.nodes[$0].span }).first(where: isTokenLimited) {
            sentences.append("Inside it, `\(inner.name)` stopped at its token limit (finish reason `\(finishReasonText(inner))`), "
                + "so its answer was cut off.")
        }

        // Retries and fallbacks, then how the run ended.
        var attempts: [String] = []
        if let last = e.retries.last {
            let subject = retried.spanID == cause.spanID ? "The \(kind(cause.category))" : "The enclosing \(label(retried))"
            let outcome: String
            if !last.isError {
                outcome = e.retries.count == 1 ? "succeeded" : "the last attempt succeeded"
            } else {
                outcome = e.retries.count == 1 ? "failed again" : "failed every time"
            }
            attempts.append("\(subject) was retried \(times(e.retries.count)) and \(outcome)")
        }
        if !e.fallbacks.isEmpty {
            let targets = e.fallbacks.map { span -> String in
                let where_ = span.provider.isEmpty ? "" : " (\(span.provider))"
                return "`\(model(span).isEmpty ? span.name : model(span))`\(where_)"
            }
            let outcome: String
            if e.fallbacks.count == 1 {
                outcome = e.fallbacks[0].isError ? "which also failed" : "which succeeded"
            } else {
                outcome = e.fallbacks.last?.isError == true ? "which all failed" : "the last of which succeeded"
            }
            let list = targets.count <= 2 ? targets.joined(separator: " and ")
                : targets.dropLast().joined(separator: ", ") + " and " + (targets.last ?? "")
            attempts.append("\(attempts.isEmpty ? "It" : "it") then fell back to \(list), \(outcome)")
        }
        let ending: String
        if e.failed {
            if e.ancestors.isEmpty {
                ending = "so the run ended with an error"
            } else if let agent = e.ancestors.first(where: { $0.category == .agent && $0.isError }) {
                ending = agent.spanID == caller?.spanID
                    ? "the agent then gave up, so the run ended with an error"
                    : "\(label(agent)) then gave up, so the run ended with an error"
            } else {
                let root = e.ancestors.last ?? cause
                ending = "the error reached `\(root.name)`, so the run ended with an error"
            }
        } else {
            ending = "the run still completed successfully"
        }
        if attempts.isEmpty {
            sentences.append(capitalized(ending == "so the run ended with an error" ? "the run ended with an error" : ending) + ".")
        } else {
            sentences.append(attempts.joined(separator: "; ") + "; " + ending + ".")
        }
        if otherFailures > 0 {
            sentences.append("\(otherFailures) other \(otherFailures == 1 ? "span" : "spans") also failed.")
        }
        return sentences.joined(separator: " ")
    }

    static func evidence(_ tree: TraceTree, _ e: TraceExplanation, otherFailures: Int) -> [String] {
        guard let cause = e.rootCause else { return [] }
        func at(_ span: NormalizedSpan) -> String { "+\(duration(nanos: tree.offsetNanos(of: span)))" }
        func outcome(_ span: NormalizedSpan) -> String { span.isError ? "failed: \(errorText(span))" : "succeeded" }
        func modelText(_ span: NormalizedSpan) -> String {
            let parts = [span.provider, model(span)].filter { !$0.isEmpty }
            return parts.isEmpty ? "" : " [\(parts.joined(separator: " "))]"
        }
        var lines = ["root cause: \(label(cause))\(modelText(cause)) (span \(cause.spanID)) started at \(at(cause)), "
            + "ran \(duration(nanos: cause.durationNanos)) and failed: \(errorText(cause))"]
        if !cause.errorFlags.isEmpty { lines.append("error flags: \(cause.errorFlags.names.joined(separator: ", "))") }
        for (level, ancestor) in e.ancestors.enumerated() {
            lines.append("ancestor \(level + 1): \(label(ancestor)) (span \(ancestor.spanID))\(ancestor.isError ? ", failed" : ", ok")")
        }
        if let llm = e.ledByLLMCall {
            let reason = llm.finishReason.isEmpty ? "" : ", finish reason `\(llm.finishReason)`"
            lines.append("led there: \(label(llm))\(modelText(llm)) (span \(llm.spanID)) ended at "
                + "+\(duration(nanos: llm.endTimeUnixNano - min(llm.endTimeUnixNano, tree.startNanos)))\(reason)")
        }
        for (number, retry) in e.retries.enumerated() {
            lines.append("retry \(number + 1): \(label(retry)) (span \(retry.spanID)) at \(at(retry)): \(outcome(retry))")
        }
        for (number, fallback) in e.fallbacks.enumerated() {
            lines.append("fallback \(number + 1): \(label(fallback))\(modelText(fallback)) (span \(fallback.spanID)) at \(at(fallback)): \(outcome(fallback))")
        }
        for span in e.tokenLimited {
            lines.append("token limit: \(label(span)) (span \(span.spanID)) finished with `\(finishReasonText(span))`")
        }
        if otherFailures > 0 { lines.append("other failures: \(otherFailures) more failing \(otherFailures == 1 ? "span" : "spans")") }
        lines.append("outcome: \(e.failed ? "the trace ended with an error" : "the trace recovered and ended ok")")
        return lines
    }

    static func capitalized(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst()
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
