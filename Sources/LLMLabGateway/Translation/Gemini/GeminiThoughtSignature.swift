import Foundation

/// Carries Gemini's `thoughtSignature` through OpenAI-shaped clients.
///
/// Gemini 3 (and 2.5 with thinking) signs each `functionCall` part; the next request must
/// send the signature back on that part, or Gemini 3 refuses the turn (400). OpenAI's tool
/// calls have no field for it, but every client echoes a tool call's `id` verbatim (in the
/// assistant message and the tool result), so the proxy appends the signature to the id
/// — `call_<n>__thought__<signature>`, the convention LiteLLM uses — and restores it when
/// the history comes back. The signature is re-encoded as unpadded base64url so the id stays
/// within `[A-Za-z0-9_-]` (ids that also pass Anthropic's tool-use id rules); Gemini reads
/// bytes fields in either base64 alphabet, with or without padding.
enum GeminiThoughtSignature {
    static let separator = "__thought__"

    /// The tool call id for call number `number`, carrying `signature` when there is one.
    static func toolCallID(number: Int, signature: String?) -> String {
        let base = "call_\(number)"
        guard let signature, !signature.isEmpty else { return base }
        return base + separator + urlSafe(signature)
    }

    /// The signature an id carries (as sent by the proxy), or nil.
    static func signature(inToolCallID id: String) -> String? {
        guard let range = id.range(of: separator) else { return nil }
        let signature = id[range.upperBound...]
        guard !signature.isEmpty, signature.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        return String(signature)
    }

    /// Standard base64 → unpadded base64url.
    static func urlSafe(_ base64: String) -> String {
        var out = ""
        out.reserveCapacity(base64.utf8.count)
        for character in base64 {
            switch character {
            case "+": out.append("-")
            case "/": out.append("_")
            case "=": continue
            default: out.append(character)
            }
        }
        return out
    }
}
