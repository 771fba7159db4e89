import Foundation
import LLMLabCore
@testable import LLMLabTracing
import LLMLabStore
import Testing

@Suite("Proxy spans")
struct ProxySpansTests {
    static func event(traceparent: String = "", status: Int32 = 200) -> UsageEventRecord {
        UsageEventRecord(
            tenantID: UUID(), requestID: "req_0123456789abcdef0123456789abcdef", occurredAt: Date(timeIntervalSince1970: 1_760_000_000.5),
            projectID: UUID(), apiKeyID: UUID(), deployment: "openai:gpt-4o-mini@default", provider: "openai", model: "smart",
            responseModel: "gpt-4o-mini-2024-07-18", inputTokens: 8, cachedInputTokens: 4, outputTokens: 3, reasoningTokens: 2,
            costUSD: "0.0000123", latencyMs: 250, ttftMs: 40, status: status, errorClass: status >= 400 ? "rate_limited" : "",
            traceparent: traceparent, streamed: true)
    }

    @Test("with a traceparent the span joins the client's trace under the client's span")
    func joinsClientTrace() {
        let span = ProxySpans.span(from: Self.event(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(span.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(span.parentSpanID == "00f067aa0ba902b7")
        #expect(span.spanID.count == 16 && span.spanID.allSatisfy(\.isHexDigit))
        #expect(span.category == .llm)
        #expect(span.name == "chat smart")
        #expect(span.responseModel == "gpt-4o-mini-2024-07-18")
        #expect(span.tokens.uncachedInput == 8 && span.tokens.cacheRead == 4 && span.tokens.output == 3 && span.tokens.reasoning == 2)
        #expect(span.costUSD == "0.0000123")
        #expect(span.durationNanos == 250_000_000)
        #expect(span.startTimeUnixNano == 1_760_000_000_500_000_000)
        #expect(!span.isError)
        #expect(span.attributesJSON.contains(#""llmlab.ttft_ms":"40""#))
    }

    @Test("without one (or with an invalid one) the trace id is the request id's hex; failures are API errors")
    func ownTrace() {
        for header in ["", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"] {
            let span = ProxySpans.span(from: Self.event(traceparent: header, status: 429))
            #expect(span.traceID == "0123456789abcdef0123456789abcdef", "\(header)")
            #expect(span.parentSpanID == "")
            #expect(span.isError)
            #expect(span.errorFlags.contains(.apiError))
        }
        // Stable: the same request gives the same span id (replays stay idempotent).
        #expect(ProxySpans.span(from: Self.event()).spanID == ProxySpans.span(from: Self.event()).spanID)
    }

    @Test("failed OTLP/HTTP exports answer a google.rpc.Status in the request's encoding")
    func statusBody() {
        #expect(String(decoding: OTLPStatusBody.encode(code: 3, message: "bad \"x\"", as: .json), as: UTF8.self)
                == #"{"code":3,"message":"bad \"x\""}"#)
        // field 1 varint 3, field 2 length 2 "ok"
        #expect(OTLPStatusBody.encode(code: 3, message: "ok", as: .protobuf) == [0x08, 0x03, 0x12, 0x02, 0x6f, 0x6b])
        #expect(OTLPStatusBody.varint(300) == [0xac, 0x02])
    }
}
