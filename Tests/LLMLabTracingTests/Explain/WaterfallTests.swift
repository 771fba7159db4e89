import LLMLabProto
import SwiftProtobuf
import Testing
@testable import llmlab_admin

/// The admin CLI's `trace show` waterfall (it renders the wire spans `GetTrace` returns).
@Suite("Trace waterfall")
struct WaterfallTests {
    static func span(_ id: String, _ name: String, _ category: Llmlab_V1_SpanCategory, depth: Int32, offsetMs: Int64, durationMs: Int64,
                     error: Bool = false, cost: String = "", tool: String = "") -> Llmlab_V1_Span {
        Llmlab_V1_Span.with {
            $0.spanID = id
            $0.name = name
            $0.category = category
            $0.depth = depth
            $0.offsetUs = offsetMs * 1_000
            $0.durationUs = durationMs * 1_000
            $0.isError = error
            $0.costUsd = cost
            $0.toolName = tool
        }
    }

    static let failingTool = [
        span("s1", "travel-planner", .agent, depth: 0, offsetMs: 0, durationMs: 64_000, error: true),
        span("s2", "chat gpt-4o", .llm, depth: 1, offsetMs: 100, durationMs: 3_000, cost: "0.0021"),
        span("s3", "execute_tool search_flights", .tool, depth: 1, offsetMs: 3_200, durationMs: 30_000, error: true, tool: "search_flights"),
        span("s4", "execute_tool search_flights", .tool, depth: 1, offsetMs: 33_300, durationMs: 30_000, error: true, tool: "search_flights"),
    ]

    @Test("indentation, kinds, bars scaled to the trace on 40 columns, durations, costs, ✗ for failures")
    func render() {
        let text = Waterfall.render(Self.failingTool, totalMicros: 64_000_000)
        #expect(text == """
            SPAN              KIND   |0                              1 min 4 s|   DURATION  COST
            travel-planner    agent  |========================================|  1 min 4 s           ✗
              chat gpt-4o     llm    |==                                      |      3.0 s  $0.0021
              search_flights  tool   |  ===================                   |     30.0 s           ✗
              search_flights  tool   |                    ====================|     30.0 s           ✗

            """)
    }

    @Test("a tiny span still gets one cell; unpriced LLM calls say so; long names are cut")
    func edges() {
        let spans = [
            Self.span("r", String(repeating: "n", count: 60), .chain, depth: 0, offsetMs: 0, durationMs: 1_000),
            Self.span("l", "chat mystery-model", .llm, depth: 1, offsetMs: 999, durationMs: 0),
        ]
        let lines = Waterfall.lines(spans, barWidth: 10)
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix(String(repeating: "n", count: 39) + "…  chain"))
        #expect(lines[2].contains("|         =|"))
        #expect(lines[2].hasSuffix("0 µs  unpriced"))
        #expect(Waterfall.lines([]).isEmpty)
        #expect(Waterfall.bar(offset: 0, duration: 0, total: 0, width: 4) == "====")
    }

    @Test("durations")
    func durations() {
        #expect(Waterfall.duration(micros: 12) == "12 µs")
        #expect(Waterfall.duration(micros: 450_000) == "450 ms")
        #expect(Waterfall.duration(micros: 3_200_000) == "3.2 s")
        #expect(Waterfall.duration(micros: 64_000_000) == "1 min 4 s")
    }
}
