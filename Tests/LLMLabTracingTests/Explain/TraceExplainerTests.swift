import Foundation
import LLMLabCore
import LLMLabTracing
import Testing

/// Hand-built span trees, shaped like what agent frameworks export.
enum SpanTrees {
    static let trace = String(repeating: "a", count: 32)
    static let project = UUID(uuidString: "00000000-0000-0000-0000-000000000001")!
    /// Trace start: an arbitrary instant, in nanoseconds.
    static let t0: UInt64 = 1_790_000_000_000_000_000

    /// A span from `start` to `end`, in milliseconds after `t0`.
    static func span(_ id: String, parent: String = "", _ name: String, _ category: SpanCategory, _ start: UInt64, _ end: UInt64,
                     error: String? = nil, flags: SpanErrorFlags = [], provider: String = "", model: String = "",
                     cost: String? = nil, finish: String = "", tool: String = "") -> NormalizedSpan {
        NormalizedSpan(traceID: trace, spanID: id, parentSpanID: parent, projectID: project, name: name, category: category,
                       startTimeUnixNano: t0 + start * 1_000_000, endTimeUnixNano: t0 + end * 1_000_000,
                       isError: error != nil || !flags.subtracting(.tokenLimit).isEmpty, errorFlags: flags, errorMessage: error ?? "",
                       provider: provider, requestModel: model, responseModel: model,
                       tokens: category == .llm ? TokenUsage(uncachedInput: 100, output: 20) : .zero, costUSD: cost,
                       finishReason: finish, toolName: tool)
    }

    /// travel-planner (agent, failed) → chat gpt-4o (asks for the tool) → search_flights
    /// times out → retried once, times out again → the agent gives up.
    static let failingToolWithRetry: [NormalizedSpan] = [
        span("s1", "travel-planner", .agent, 0, 64_000, error: "search_flights failed twice"),
        span("s2", parent: "s1", "chat gpt-4o", .llm, 100, 3_100, provider: "openai", model: "gpt-4o", cost: "0.0021",
             finish: "tool_calls"),
        span("s3", parent: "s1", "execute_tool search_flights", .tool, 3_200, 33_200,
             error: "TimeoutError: upstream took longer than 30 s", flags: [.toolError, .timeout], tool: "search_flights"),
        span("s4", parent: "s1", "execute_tool search_flights", .tool, 33_300, 63_300,
             error: "TimeoutError: upstream took longer than 30 s", flags: [.toolError, .timeout], tool: "search_flights"),
    ]

    /// support-bot: gpt-4o answers 429, the gateway falls back to claude, the run succeeds.
    static let llmFallback: [NormalizedSpan] = [
        span("r", "support-bot", .agent, 0, 2_500),
        span("l1", parent: "r", "chat gpt-4o", .llm, 0, 400, error: "429 Too Many Requests: rate limit reached",
             flags: [.apiError], provider: "openai", model: "gpt-4o"),
        span("l2", parent: "r", "chat claude-sonnet-4", .llm, 450, 2_400, provider: "anthropic", model: "claude-sonnet-4",
             cost: "0.0105", finish: "stop"),
    ]

    /// summarize: the model stops at its token limit (a warning, not a failure), so the JSON
    /// it wrote is cut short and parsing it fails the run.
    static let tokenLimit: [NormalizedSpan] = [
        span("root", "summarize", .chain, 0, 1_500, error: ""),
        span("llm", parent: "root", "chat gpt-4o-mini", .llm, 10, 1_400, flags: [.tokenLimit], provider: "openai",
             model: "gpt-4o-mini", cost: "0.0003", finish: "length"),
        span("parse", parent: "root", "parse_summary", .tool, 1_410, 1_450,
             error: "JSONDecodeError: Unterminated string starting at line 1 column 812.", flags: [.toolError, .exception],
             tool: "parse_summary"),
    ]

    /// A healthy RAG run.
    static let success: [NormalizedSpan] = [
        span("q", "answer-question", .chain, 0, 1_800),
        span("ret", parent: "q", "retrieve docs", .retriever, 5, 205),
        span("gen", parent: "q", "chat gpt-4o", .llm, 210, 1_790, provider: "openai", model: "gpt-4o", cost: "0.004", finish: "stop"),
    ]
}

@Suite("Trace explainer")
struct TraceExplainerTests {
    @Test("a failing tool with a retry: root cause, ancestors, the LLM call that asked for it, the retry")
    func failingToolWithRetry() {
        let e = TraceExplainer.explain(SpanTrees.failingToolWithRetry.shuffled())
        #expect(e.hasError && e.failed)
        #expect(e.rootCause?.spanID == "s3")
        #expect(e.ancestors.map(\.spanID) == ["s1"])
        #expect(e.ledByLLMCall?.spanID == "s2")
        #expect(e.retries.map(\.spanID) == ["s4"])
        #expect(e.fallbacks.isEmpty)
        #expect(e.summary == """
            The trace failed in tool `search_flights` (3.2 s into the run): TimeoutError: upstream took longer than 30 s. \
            It was called by agent `travel-planner` after `chat gpt-4o` asked for it. \
            The tool was retried once and failed again; the agent then gave up, so the run ended with an error.
            """)
        #expect(e.evidence == [
            "root cause: tool `search_flights` (span s3) started at +3.2 s, ran 30.0 s and failed: TimeoutError: upstream took longer than 30 s",
            "error flags: tool_error, timeout",
            "ancestor 1: agent `travel-planner` (span s1), failed",
            "led there: LLM call `chat gpt-4o` [openai gpt-4o] (span s2) ended at +3.1 s, finish reason `tool_calls`",
            "retry 1: tool `search_flights` (span s4) at +33.3 s: failed: TimeoutError: upstream took longer than 30 s",
            "outcome: the trace ended with an error",
        ])
    }

    @Test("an LLM call that fails over to another provider: a recovered failure with its fallback")
    func llmFallback() {
        let e = TraceExplainer.explain(SpanTrees.llmFallback)
        #expect(e.hasError && !e.failed)
        #expect(e.rootCause?.spanID == "l1")
        #expect(e.retries.isEmpty)
        #expect(e.fallbacks.map(\.spanID) == ["l2"])
        #expect(e.ledByLLMCall == nil)
        #expect(e.summary == """
            The trace recovered from a failure in LLM call `chat gpt-4o` (0 ms into the run): \
            429 Too Many Requests: rate limit reached. It was called by agent `support-bot`. \
            It then fell back to `claude-sonnet-4` (anthropic), which succeeded; the run still completed successfully.
            """)
        #expect(e.evidence.contains("fallback 1: LLM call `chat claude-sonnet-4` [anthropic claude-sonnet-4] (span l2) at +450 ms: succeeded"))
    }

    @Test("a truncated answer is named as what led to the failure; a token-limit failure says so")
    func tokenLimit() {
        let e = TraceExplainer.explain(SpanTrees.tokenLimit)
        #expect(e.failed)
        #expect(e.rootCause?.spanID == "parse")
        #expect(e.ledByLLMCall?.spanID == "llm")
        #expect(e.tokenLimited.map(\.spanID) == ["llm"])
        #expect(e.summary == """
            The trace failed in tool `parse_summary` (1.4 s into the run): \
            JSONDecodeError: Unterminated string starting at line 1 column 812. \
            It was called by step `summarize` after `chat gpt-4o-mini` asked for it. \
            `chat gpt-4o-mini` had stopped at its token limit (finish reason `length`), so its answer was cut off. \
            The error reached `summarize`, so the run ended with an error.
            """)
        #expect(e.evidence.contains("token limit: LLM call `chat gpt-4o-mini` (span llm) finished with `length`"))

        // A provider that reports the limit as an error, with no message: the flag speaks.
        let failedAtLimit = [
            SpanTrees.span("root", "summarize", .chain, 0, 1_500, error: ""),
            SpanTrees.span("llm", parent: "root", "chat gpt-4o-mini", .llm, 10, 1_490, error: "", flags: [.tokenLimit],
                           provider: "openai", model: "gpt-4o-mini", finish: "length"),
        ]
        let f = TraceExplainer.explain(failedAtLimit)
        #expect(f.rootCause?.spanID == "llm")
        #expect(f.summary.hasPrefix("""
            The trace failed in LLM call `chat gpt-4o-mini` (10 ms into the run): \
            the model stopped at its token limit (finish reason `length`).
            """))

        // A step that fails with a truncated LLM answer inside it.
        let inside = [
            SpanTrees.span("root", "summarize", .chain, 0, 1_500, error: ""),
            SpanTrees.span("llm", parent: "root", "chat gpt-4o-mini", .llm, 10, 1_490, flags: [.tokenLimit], finish: "max_tokens"),
        ]
        #expect(TraceExplainer.explain(inside).summary == """
            The trace failed in step `summarize` (0 ms into the run): its status was error. \
            Inside it, `chat gpt-4o-mini` stopped at its token limit (finish reason `max_tokens`), so its answer was cut off. \
            The run ended with an error.
            """)
    }

    @Test("a healthy trace says so, and mentions a truncated answer")
    func success() {
        let e = TraceExplainer.explain(SpanTrees.success)
        #expect(!e.hasError && !e.failed && e.rootCause == nil)
        #expect(e.summary == "The trace completed without errors: 3 spans, 1 LLM call in 1.8 s.")
        #expect(e.evidence.isEmpty)

        var truncated = SpanTrees.success
        truncated[2].finishReason = "length"
        truncated[2].errorFlags = [.tokenLimit]
        let t = TraceExplainer.explain(truncated)
        #expect(!t.hasError)
        #expect(t.summary == """
            The trace completed without errors: 3 spans, 1 LLM call in 1.8 s. \
            Note that `chat gpt-4o` stopped at its token limit (finish reason `length`), so its answer may be cut off.
            """)
    }

    @Test("the first failure in time wins; a failing parent is explained by its failing child")
    func firstFailureInTime() {
        let spans = [
            SpanTrees.span("root", "run", .agent, 0, 10_000, error: "failed"),
            SpanTrees.span("slow", parent: "root", "slow tool", .tool, 0, 9_000, error: "timeout", tool: "slow"),
            SpanTrees.span("wrap", parent: "root", "step", .chain, 100, 3_000, error: "step failed"),
            SpanTrees.span("fast", parent: "wrap", "fast tool", .tool, 200, 2_000, error: "ValueError: bad input", tool: "fast"),
        ]
        let e = TraceExplainer.explain(spans)
        #expect(e.rootCause?.spanID == "fast")
        #expect(e.ancestors.map(\.spanID) == ["wrap", "root"])
        #expect(e.summary.contains("1 other span also failed."))
    }

    @Test("the tree: tree order, depths, orphans as roots, duplicates dropped, cycles broken")
    func tree() {
        var spans = SpanTrees.failingToolWithRetry
        spans.append(SpanTrees.span("orphan", parent: "missing", "late exporter", .other, 50, 60))
        spans.append(spans[1])
        spans.append(SpanTrees.span("c1", parent: "c2", "cycle a", .other, 70, 80))
        spans.append(SpanTrees.span("c2", parent: "c1", "cycle b", .other, 71, 81))
        let tree = TraceTree(spans.reversed())
        #expect(tree.nodes.map(\.span.spanID) == ["s1", "s2", "s3", "s4", "orphan", "c1", "c2"])
        #expect(tree.nodes.map(\.depth) == [0, 1, 1, 1, 0, 0, 1])
        #expect(tree.durationNanos == 64_000_000_000)
        #expect(tree.subtree(of: 0) == 0..<4)
    }

    @Test("GenAI semantic-convention span names read naturally")
    func semconvNames() {
        var spans = SpanTrees.failingToolWithRetry
        spans[0].name = "invoke_agent travel-planner"
        let e = TraceExplainer.explain(spans)
        #expect(e.summary.contains("It was called by agent `travel-planner` after `chat gpt-4o` asked for it."))
    }

    @Test("durations read like a person would say them")
    func durations() {
        #expect(TraceExplainer.duration(nanos: 0) == "0 ms")
        #expect(TraceExplainer.duration(nanos: 450_000_000) == "450 ms")
        #expect(TraceExplainer.duration(nanos: 3_249_000_000) == "3.2 s")
        #expect(TraceExplainer.duration(nanos: 125_000_000_000) == "2 min 5 s")
        #expect(TraceExplainer.duration(nanos: 120_000_000_000) == "2 min")
    }
}
