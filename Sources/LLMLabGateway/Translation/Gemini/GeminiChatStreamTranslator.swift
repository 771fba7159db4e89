import Foundation
import LLMLabCore

/// Gemini's `streamGenerateContent?alt=sse` body as OpenAI `chat.completion.chunk` events.
///
/// Each Gemini event is a whole `GenerateContentResponse` (`data: {…}\r\n\r\n`) holding the
/// new parts, the cumulative `usageMetadata`, and on the last one the `finishReason`. Gemini
/// sends no end sentinel: the stream is complete when a `finishReason` has been seen AND the
/// body ends, so the usage chunk (with `include_usage`) and `data: [DONE]` are written by
/// ``finish()``. A body that ends without a `finishReason` gets nothing invented.
///
/// An `{"error":{…}}` event (Google's mid-stream failure) is forwarded as OpenAI's
/// `data: {"error":{…}}` and sets ``streamError``; the stream never completes after it.
struct GeminiChatStreamTranslator: StreamTranslator {
    let includeUsage: Bool
    let requestedModel: String
    let created: Int

    private var framer = SSEEventFramer()
    private var id: String?
    /// Choices whose first chunk (carrying `role`) has been sent.
    private var rolesSent: Set<Int> = []
    /// Tool calls sent per choice (OpenAI's `tool_calls[].index`).
    private var toolCallCounts: [Int: Int] = [:]
    /// Tool calls sent over all choices (the `call_<n>` ids, as in the JSON answer).
    private var callNumber = 0
    private var sawFinishReason = false
    private var usageMetadata: GeminiUsageMetadata?

    private(set) var usage: TokenUsage?
    private(set) var usageProblem: String?
    private(set) var responseModel = ""
    private(set) var isComplete = false
    private(set) var streamError: UpstreamErrorClass?

    init(includeUsage: Bool, requestedModel: String, created: Int) {
        self.includeUsage = includeUsage
        self.requestedModel = requestedModel
        self.created = created
    }

    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] {
        var out: [UInt8] = []
        for event in try framer.append(piece) {
            out += handle(event)
        }
        return out
    }

    mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if let rest = framer.finish() { out += handle(rest[...]) }
        guard sawFinishReason, !isComplete, streamError == nil else { return out }
        if includeUsage, let usageMetadata {
            out += event([
                "id": .string(completionID), "object": "chat.completion.chunk", "created": .int(created),
                "model": .string(model), "choices": [], "usage": GeminiWireMapping.openAIUsage(usageMetadata),
            ])
        }
        out += Array("data: [DONE]\n\n".utf8)
        isComplete = true
        return out
    }

    // MARK: Events

    private var model: String { responseModel.isEmpty ? requestedModel : responseModel }

    private var completionID: String { id ?? "chatcmpl-gemini" }

    private mutating func handle(_ sse: ArraySlice<UInt8>) -> [UInt8] {
        guard !isComplete, streamError == nil, let data = SSEEventFramer.data(of: sse) else { return [] }
        if data.elementsEqual("[DONE]".utf8) { return [] }
        guard let json = JSONValue.parse(data), case .object = json else {
            streamError = .invalidResponse
            let error = GatewayError.invalidUpstreamResponse(GeminiChatTranslation.provider, "a stream event is not a JSON object")
            return Array("data: \(error.body)\n\n".utf8)
        }
        if let error = json["error"] {
            streamError = GeminiErrorMapping.errorClass(of: error)
            let status = error["code"]?.intValue ?? 500
            return Array("data: \(GeminiErrorMapping.gatewayError(httpStatus: status, error: error).body)\n\n".utf8)
        }
        if id == nil {
            id = json["responseId"]?.stringValue.map { "chatcmpl-" + $0 } ?? GeminiWireMapping.generatedID()
        }
        if let modelVersion = json["modelVersion"]?.stringValue { responseModel = modelVersion }
        if let usageMetadata = json["usageMetadata"], !usageMetadata.isNull {
            let read = GeminiWireMapping.usage(usageMetadata)
            self.usageMetadata = read.metadata ?? self.usageMetadata
            usage = read.usage
            usageProblem = read.problem
        }
        var out: [UInt8] = []
        let candidates = json["candidates"]?.arrayValue ?? []
        for (position, candidate) in candidates.enumerated() {
            out += handle(candidate: candidate, index: candidate["index"]?.intValue ?? position)
        }
        if candidates.isEmpty, json["promptFeedback"]?["blockReason"]?.stringValue != nil {
            sawFinishReason = true
            out += chunk(index: 0, delta: takeRole(0), finish: "content_filter")
        }
        return out
    }

    private mutating func handle(candidate: JSONValue, index: Int) -> [UInt8] {
        let parts = GeminiWireMapping.parts(of: candidate)
        let reason = candidate["finishReason"]?.stringValue
        let hasBody = !parts.text.isEmpty || !parts.functionCalls.isEmpty
        guard hasBody || reason != nil else { return [] }
        var out: [UInt8] = []
        var delta = takeRole(index)
        if hasBody {
            if !parts.text.isEmpty { delta["content"] = .string(parts.text) }
            if !parts.functionCalls.isEmpty {
                var calls: [JSONValue] = []
                for call in parts.functionCalls {
                    calls.append([
                        "index": .int(toolCallCounts[index, default: 0]),
                        "id": .string(GeminiThoughtSignature.toolCallID(number: callNumber, signature: call.signature)), "type": "function",
                        "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                    ])
                    toolCallCounts[index, default: 0] += 1
                    callNumber += 1
                }
                delta["tool_calls"] = .array(calls)
            }
            out += chunk(index: index, delta: delta, finish: nil)
            delta = [:]
        }
        if let reason {
            sawFinishReason = true
            let finish = GeminiWireMapping.finishReason(reason, hasToolCalls: toolCallCounts[index, default: 0] > 0)
            out += chunk(index: index, delta: delta, finish: finish)
        }
        return out
    }

    /// `{"role":"assistant"}` for a choice's first chunk, else an empty delta.
    private mutating func takeRole(_ index: Int) -> [String: JSONValue] {
        rolesSent.insert(index).inserted ? ["role": "assistant"] : [:]
    }

    private func chunk(index: Int, delta: [String: JSONValue], finish: String?) -> [UInt8] {
        var object: [String: JSONValue] = [
            "id": .string(completionID), "object": "chat.completion.chunk", "created": .int(created),
            "model": .string(model),
            "choices": [[
                "index": .int(index), "delta": .object(delta), "logprobs": .null,
                "finish_reason": finish.map(JSONValue.string) ?? .null,
            ]],
        ]
        if includeUsage { object["usage"] = .null }
        return event(object)
    }

    private func event(_ object: [String: JSONValue]) -> [UInt8] {
        Array("data: ".utf8) + JSONValue.object(object).encoded() + Array("\n\n".utf8)
    }
}
