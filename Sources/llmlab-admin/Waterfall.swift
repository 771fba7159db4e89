import LLMLabProto

/// The ASCII waterfall `trace show` draws from the spans `GetTrace` returns (already in
/// tree order with depths): one line per span — the name indented two spaces per level,
/// its kind, a bar placed and scaled on the trace's duration in a fixed width, the
/// duration, the exact cost, and `✗` for a failed span. Pure: tested with exact strings.
///
/// ```
/// SPAN                 KIND   |0                                 3.0 s|  DURATION  COST
/// travel-planner       agent  |========================================|     3.0 s          ✗
///   chat gpt-4o        llm    |=======                                 |    500 ms  $0.0021
/// ```
enum Waterfall {
    static let barWidth = 40
    /// Longer names are cut with `…` so the bars stay aligned.
    static let maxLabelWidth = 40

    static func render(_ spans: [Llmlab_V1_Span], totalMicros: Int64 = 0, barWidth: Int = Self.barWidth) -> String {
        lines(spans, totalMicros: totalMicros, barWidth: barWidth).map { $0 + "\n" }.joined()
    }

    /// `totalMicros` is the trace's duration; 0 derives it from the spans.
    static func lines(_ spans: [Llmlab_V1_Span], totalMicros: Int64 = 0, barWidth: Int = Self.barWidth) -> [String] {
        guard !spans.isEmpty else { return [] }
        let width = max(barWidth, 10)
        let total = max(totalMicros, spans.map { $0.offsetUs + $0.durationUs }.max() ?? 0, 0)
        let labels = spans.map { label($0) }
        let labelWidth = max("SPAN".count, labels.map(\.count).max() ?? 0)
        let kinds = spans.map { kind($0.category) }
        let kindWidth = max("KIND".count, kinds.map(\.count).max() ?? 0)
        let durations = spans.map { duration(micros: $0.durationUs) }
        let durationWidth = max("DURATION".count, durations.map(\.count).max() ?? 0)
        let costs = spans.map(cost)
        let costWidth = max("COST".count, costs.map(\.count).max() ?? 0)

        let end = duration(micros: total)
        let scale = "0" + String(repeating: " ", count: max(1, width - 1 - end.count)) + end
        var lines = [
            trimmed(pad("SPAN", labelWidth) + "  " + pad("KIND", kindWidth) + "  |" + scale + "|  "
                    + padLeft("DURATION", durationWidth) + "  " + pad("COST", costWidth))
        ]
        for (index, span) in spans.enumerated() {
            let line = pad(labels[index], labelWidth) + "  " + pad(kinds[index], kindWidth) + "  |"
                + bar(offset: span.offsetUs, duration: span.durationUs, total: total, width: width) + "|  "
                + padLeft(durations[index], durationWidth) + "  " + pad(costs[index], costWidth)
                + (span.isError ? "  ✗" : "")
            lines.append(trimmed(line))
        }
        return lines
    }

    /// Cells from floor(start) to ceil(end) on `width` columns, at least one.
    static func bar(offset: Int64, duration: Int64, total: Int64, width: Int) -> String {
        guard total > 0 else { return String(repeating: "=", count: width) }
        let start = min(max(0, offset), total)
        let finish = min(max(start, offset + max(0, duration)), total)
        var first = Int(start * Int64(width) / total)
        var last = Int((finish * Int64(width) + total - 1) / total)
        first = min(first, width - 1)
        last = max(min(last, width), first + 1)
        return String(repeating: " ", count: first) + String(repeating: "=", count: last - first)
            + String(repeating: " ", count: width - last)
    }

    static func label(_ span: Llmlab_V1_Span) -> String {
        let indent = String(repeating: "  ", count: Int(max(0, min(span.depth, 12))))
        let name = span.category == .tool && !span.toolName.isEmpty ? span.toolName : span.name
        let text = indent + (name.isEmpty ? "(unnamed)" : name)
        return text.count > maxLabelWidth ? String(text.prefix(maxLabelWidth - 1)) + "…" : text
    }

    static func kind(_ category: Llmlab_V1_SpanCategory) -> String {
        switch category {
        case .llm: "llm"
        case .tool: "tool"
        case .agent: "agent"
        case .chain: "chain"
        case .retriever: "retriever"
        case .embedding: "embedding"
        case .other, .unspecified: "other"
        case .UNRECOGNIZED(let raw): "kind(\(raw))"
        }
    }

    static func cost(_ span: Llmlab_V1_Span) -> String {
        if !span.costUsd.isEmpty { return "$" + span.costUsd }
        return span.category == .llm ? "unpriced" : ""
    }

    /// `12 µs`, `450 ms`, `3.2 s`, `2 min 5 s`.
    static func duration(micros: Int64) -> String {
        let value = max(0, micros)
        if value < 1_000 { return "\(value) µs" }
        let millis = (value + 500) / 1_000
        if millis < 1_000 { return "\(millis) ms" }
        let tenths = (value + 50_000) / 100_000
        if tenths < 600 { return "\(tenths / 10).\(tenths % 10) s" }
        let seconds = (value + 500_000) / 1_000_000
        return seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds / 60) min \(seconds % 60) s"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    private static func trimmed(_ text: String) -> String {
        var copy = text
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
