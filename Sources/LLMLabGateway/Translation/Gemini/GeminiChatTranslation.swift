import Foundation
import LLMLabCore

/// An OpenAI chat completion served by Google's Gemini API (`generateContent`, and
/// `streamGenerateContent?alt=sse` for streams; https://ai.google.dev/api/generate-content).
/// Request shapes: ``GeminiRequestBuilder``; the stream: ``GeminiChatStreamTranslator``.
///
/// Response decisions: `id` is `chatcmpl-` + `responseId`; one choice per candidate; text
/// parts concatenated, thought parts (`"thought": true`) left out; `functionCall` parts become
/// `tool_calls` with ids `call_<n>` (n counts from 0 over the response; with the part's
/// `thoughtSignature` appended, see ``GeminiThoughtSignature``) and `arguments` the
/// JSON of `args`; `content` is `null` when the candidate has no text part. A prompt blocked
/// by `promptFeedback.blockReason` (no candidates) answers one `content_filter` choice.
struct GeminiChatTranslation: ChatTranslation {
    static let provider = "gemini"

    /// The clock for `created`; injectable so tests are deterministic.
    var now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Unreserved characters (RFC 3986): everything else in a model name is percent-encoded,
    /// including `:` and `/`, which would change the method or the path.
    private static let pathSegmentAllowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The path under the API base (`https://generativelanguage.googleapis.com/v1beta`) for
    /// `model`; a leading `models/` (the resource-name form) is dropped.
    static func path(model: String, stream: Bool) -> String {
        let name = model.hasPrefix("models/") ? String(model.dropFirst("models/".count)) : model
        let segment = name.addingPercentEncoding(withAllowedCharacters: pathSegmentAllowed) ?? name
        return stream ? "/models/\(segment):streamGenerateContent?alt=sse" : "/models/\(segment):generateContent"
    }

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        try GeminiRequestBuilder.build(body).encoded()
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        guard let json = JSONValue.parse(body), case .object = json else {
            throw .invalidUpstreamResponse(Self.provider, "the body is not a JSON object")
        }
        let candidates: [JSONValue]
        switch json["candidates"] {
        case nil, .null?: candidates = []
        case .array(let list)?: candidates = list
        default: throw .invalidUpstreamResponse(Self.provider, "candidates is not an array")
        }
        var choices: [JSONValue] = []
        var callNumber = 0
        for (position, candidate) in candidates.enumerated() {
            let parts = GeminiWireMapping.parts(of: candidate)
            var message: [String: JSONValue] = [
                "role": "assistant",
                "content": parts.hasText ? .string(parts.text) : .null,
                "refusal": .null,
            ]
            if !parts.functionCalls.isEmpty {
                message["tool_calls"] = .array(parts.functionCalls.map { call in
                    defer { callNumber += 1 }
                    return [
                        "id": .string(GeminiThoughtSignature.toolCallID(number: callNumber, signature: call.signature)), "type": "function",
                        "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                    ]
                })
            }
            let hasToolCalls = !parts.functionCalls.isEmpty
            let finish = GeminiWireMapping.finishReason(candidate["finishReason"]?.stringValue, hasToolCalls: hasToolCalls)
                ?? (hasToolCalls ? "tool_calls" : "stop")
            choices.append([
                "index": .int(candidate["index"]?.intValue ?? position),
                "message": .object(message),
                "logprobs": .null,
                "finish_reason": .string(finish),
            ])
        }
        if candidates.isEmpty {
            guard json["promptFeedback"]?["blockReason"]?.stringValue != nil else {
                throw .invalidUpstreamResponse(Self.provider, "the response has neither candidates nor promptFeedback.blockReason")
            }
            choices.append([
                "index": 0,
                "message": ["role": "assistant", "content": .null, "refusal": .null],
                "logprobs": .null,
                "finish_reason": "content_filter",
            ])
        }
        let modelVersion = json["modelVersion"]?.stringValue
        let id = json["responseId"]?.stringValue.map { "chatcmpl-" + $0 } ?? GeminiWireMapping.generatedID()
        var completion: [String: JSONValue] = [
            "id": .string(id),
            "object": "chat.completion",
            "created": .int(Int(now().timeIntervalSince1970)),
            "model": .string(modelVersion ?? requestedModel),
            "choices": .array(choices),
        ]
        let usage = GeminiWireMapping.usage(json["usageMetadata"])
        if let metadata = usage.metadata { completion["usage"] = GeminiWireMapping.openAIUsage(metadata) }
        return TranslatedResponse(body: JSONValue.object(completion).encoded(), usage: usage.usage,
                                  usageProblem: usage.problem, responseModel: modelVersion ?? "")
    }

    func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        var json = JSONValue.parse(body)
        // Some Google front ends wrap the error in a one-element array.
        if case .array(let items)? = json, let first = items.first { json = first }
        return Array(GeminiErrorMapping.gatewayError(httpStatus: status, error: json?["error"], rawBody: body).body.utf8)
    }

    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        GeminiChatStreamTranslator(includeUsage: includeUsage, requestedModel: requestedModel,
                                   created: Int(now().timeIntervalSince1970))
    }
}
