import Foundation
import LLMLabCore

/// Gemini response pieces read the way both the JSON answer and the stream need them.
enum GeminiWireMapping {
    /// What one candidate's `content.parts` says, in OpenAI terms.
    struct Parts {
        /// The visible text parts concatenated (parts with `"thought": true` excluded).
        var text = ""
        /// At least one visible text part was present (possibly empty).
        var hasText = false
        /// `functionCall` parts: name, `args` as a JSON string, and the part's
        /// `thoughtSignature` (see ``GeminiThoughtSignature``).
        var functionCalls: [(name: String, arguments: String, signature: String?)] = []
    }

    static func parts(of candidate: JSONValue) -> Parts {
        var result = Parts()
        for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
            if let call = part["functionCall"], let name = call["name"]?.stringValue {
                let args = call["args"] ?? .object([:])
                result.functionCalls.append((name, String(decoding: (args.isNull ? .object([:]) : args).encoded(), as: UTF8.self),
                                             part["thoughtSignature"]?.stringValue))
            } else if let text = part["text"]?.stringValue, part["thought"]?.boolValue != true {
                result.text += text
                result.hasText = true
            }
        }
        return result
    }

    /// OpenAI's `finish_reason` for a Gemini `finishReason` (`nil` while the candidate is
    /// unfinished). Gemini enum: https://ai.google.dev/api/generate-content#FinishReason
    static func finishReason(_ reason: String?, hasToolCalls: Bool) -> String? {
        guard let reason else { return nil }
        switch reason {
        case "STOP": return hasToolCalls ? "tool_calls" : "stop"
        case "MAX_TOKENS": return "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY":
            return "content_filter"
        default: return "stop"
        }
    }

    /// `usageMetadata` read and normalised; `problem` says why it could not be.
    static func usage(_ value: JSONValue?) -> (metadata: GeminiUsageMetadata?, usage: TokenUsage?, problem: String?) {
        guard let value, !value.isNull else { return (nil, nil, nil) }
        guard case .object = value,
              let metadata = try? JSONDecoder().decode(GeminiUsageMetadata.self, from: Data(value.encoded()))
        else { return (nil, nil, "usageMetadata is not an object of integer token counts") }
        do {
            return (metadata, try metadata.normalized(), nil)
        } catch {
            return (metadata, nil, error.description)
        }
    }

    /// OpenAI's `usage` object for Gemini's counts: prompt = promptTokenCount (which
    /// includes cachedContentTokenCount) + toolUsePromptTokenCount; completion =
    /// candidatesTokenCount + thoughtsTokenCount (thinking is billed as output).
    static func openAIUsage(_ metadata: GeminiUsageMetadata) -> JSONValue {
        let prompt = (metadata.promptTokenCount ?? 0) + (metadata.toolUsePromptTokenCount ?? 0)
        let thoughts = metadata.thoughtsTokenCount ?? 0
        let completion = (metadata.candidatesTokenCount ?? 0) + thoughts
        return [
            "prompt_tokens": .int(prompt),
            "completion_tokens": .int(completion),
            "total_tokens": .int(prompt + completion),
            "prompt_tokens_details": ["cached_tokens": .int(metadata.cachedContentTokenCount ?? 0)],
            "completion_tokens_details": ["reasoning_tokens": .int(thoughts)],
        ]
    }

    /// A fresh completion id when Gemini sends no `responseId`.
    static func generatedID() -> String {
        "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
