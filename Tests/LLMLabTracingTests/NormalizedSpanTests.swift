import Foundation
import LLMLabTracing
import Testing

@Suite("Normalized span")
struct NormalizedSpanTests {
    @Test("times keep nanoseconds; duration never goes negative")
    func times() {
        let span = NormalizedSpan(traceID: String(repeating: "a", count: 32), spanID: String(repeating: "b", count: 16),
                                  parentSpanID: "", projectID: UUID(), name: "chat", category: .llm,
                                  startTimeUnixNano: 1_700_000_000_123_456_789, endTimeUnixNano: 1_700_000_001_000_000_000)
        #expect(span.durationNanos == 876_543_211)
        #expect(abs(span.startTime.timeIntervalSince1970 - 1_700_000_000.123_456_789) < 1e-6)
        var backwards = span
        backwards.endTimeUnixNano = 1
        #expect(backwards.durationNanos == 0)
    }
}
