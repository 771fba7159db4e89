public import Foundation
import LLMLabCore
public import LLMLabStore

/// Every proxied request as an LLM span in the tenant's traces. When the client sent a
/// W3C `traceparent`, the span joins the client's trace as a child of the client's span;
/// otherwise it starts a trace of its own whose id is the request id's 32 hex digits (so
/// `x-llmlab-request-id` finds it). Prompts and completions are not stored by the proxy.
public enum ProxySpans {
    public static func span(from event: UsageEventRecord) -> NormalizedSpan {
        let parsed = TraceParent(event.traceparent)
        let requestHex = event.requestID.hasPrefix("req_") ? String(event.requestID.dropFirst(4)) : event.requestID
        let traceID = parsed?.traceID ?? (requestHex.count == 32 ? requestHex : Self.hex(of: event.requestID, length: 32))
        let start = UInt64(max(0, event.occurredAt.timeIntervalSince1970) * 1e9)
        let end = start + UInt64(max(0, Int64(event.latencyMs))) * 1_000_000
        let model = event.responseModel.isEmpty ? event.model : event.responseModel
        let failed = event.status >= 400
        var flags: SpanErrorFlags = []
        if failed { flags.insert(.apiError) }
        if event.errorClass == "timeout" || event.errorClass == "upstream_timeout" { flags.insert(.timeout) }
        var attributes: [String: String] = ["llmlab.request_id": event.requestID, "http.response.status_code": "\(event.status)",
                                            "llmlab.streamed": event.streamed ? "true" : "false"]
        if !event.deployment.isEmpty { attributes["llmlab.deployment"] = event.deployment }
        if let ttft = event.ttftMs { attributes["llmlab.ttft_ms"] = "\(ttft)" }
        let attributesJSON = "{" + attributes.sorted { $0.key < $1.key }
            .map { "\(JSONString.quoted($0.key)):\(JSONString.quoted($0.value))" }.joined(separator: ",") + "}"
        return NormalizedSpan(
            traceID: traceID, spanID: Self.hex(of: "span:" + event.requestID, length: 16), parentSpanID: parsed?.parentID ?? "",
            projectID: event.projectID, name: "chat \(event.model)", category: .llm, startTimeUnixNano: start, endTimeUnixNano: end,
            isError: failed, errorFlags: flags, errorMessage: failed ? "HTTP \(event.status) \(event.errorClass)" : "",
            provider: event.provider, requestModel: event.model, responseModel: model,
            tokens: TokenUsage(uncachedInput: Int(event.inputTokens), cacheRead: Int(event.cachedInputTokens),
                               cacheWrite5m: Int(event.cacheWrite5mTokens), cacheWrite1h: Int(event.cacheWrite1hTokens),
                               output: Int(event.outputTokens), reasoning: Int(event.reasoningTokens)),
            costUSD: event.costUSD, unpricedReason: event.unpricedReason, userID: event.endUser ?? "", serviceName: "llmlab-proxy",
            attributesJSON: attributesJSON)
    }

    /// `length` lowercase hex digits derived from `text` (FNV-1a, stable across runs).
    static func hex(of text: String, length: Int) -> String {
        var out = ""
        var seed: UInt64 = 0xcbf2_9ce4_8422_2325
        var round: UInt64 = 0
        while out.count < length {
            var hash = seed ^ round
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            out += String(hash, radix: 16).leftPadded(to: 16)
            round += 1
            seed = hash
        }
        return String(out.prefix(length))
    }
}

/// A W3C `traceparent` header: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
struct TraceParent {
    var traceID: String
    var parentID: String

    init?(_ header: String) {
        let parts = header.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "-")
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16,
              parts[1].allSatisfy(\.isHexDigit), parts[2].allSatisfy(\.isHexDigit),
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        traceID = String(parts[1])
        parentID = String(parts[2])
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
