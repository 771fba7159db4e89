import Foundation
import LLMLabCore

/// An OpenAI Chat Completions client in front of Anthropic's Messages API
/// (`POST /v1/messages`). Pure: bytes in, bytes out.
///
/// - Request: see ``AnthropicRequestTranslator``.
/// - Response: one choice; text blocks concatenated into `message.content` (`null` when
///   the answer is only tool calls); `tool_use` blocks → `tool_calls` with `arguments` the
///   JSON text of `input`; `thinking` / `redacted_thinking` and server-tool blocks are
///   dropped (OpenAI's chat completion has no documented member for them); `usage` in
///   OpenAI's shape (see ``AnthropicWireMapping/openAIUsage(_:)``), while the meter gets the
///   normalised Anthropic usage with cache writes split by TTL.
/// - Errors: Anthropic's `{"type":"error","error":{"type","message"}}` → OpenAI's
///   `{"error":{"message","type","param","code"}}` (see ``AnthropicWireMapping``).
struct AnthropicChatTranslation: ChatTranslation {
    /// The clock for `created` (Unix seconds); injectable so tests are deterministic.
    var now: @Sendable () -> Date = { Date() }

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Anthropic speaks another API: every request is translated.
    var passesRequestThrough: Bool { false }

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        try AnthropicRequestTranslator.translate(body, model: model, stream: stream).encoded()
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        guard let message = JSONValue.parse(body), message.objectValue != nil else {
            throw .invalidUpstreamResponse("anthropic", "the body is not a JSON object")
        }
        guard let content = message["content"]?.arrayValue else {
            throw .invalidUpstreamResponse("anthropic", "the message has no content array")
        }
        let model = message["model"]?.stringValue ?? ""
        var text = ""
        var hasText = false
        var toolCalls: [JSONValue] = []
        for (index, block) in content.enumerated() {
            switch block["type"]?.stringValue {
            case "text":
                guard let piece = block["text"]?.stringValue else {
                    throw .invalidUpstreamResponse("anthropic", "content[\(index)].text is not a string")
                }
                text += piece
                hasText = true
            case "tool_use":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw .invalidUpstreamResponse("anthropic", "content[\(index)] is a tool_use without id or name")
                }
                let arguments = (block["input"] ?? .object([:])).encoded()
                toolCalls.append([
                    "id": .string(id), "type": "function",
                    "function": ["name": .string(name), "arguments": .string(String(decoding: arguments, as: UTF8.self))],
                ])
            default:
                continue  // thinking, redacted_thinking, server tools: no OpenAI member
            }
        }

        var reply: [String: JSONValue] = [
            "role": "assistant",
            "content": hasText || toolCalls.isEmpty ? .string(text) : .null,
            "refusal": .null,
        ]
        if !toolCalls.isEmpty { reply["tool_calls"] = .array(toolCalls) }
        let choice: JSONValue = [
            "index": 0, "message": .object(reply), "logprobs": .null,
            "finish_reason": .string(AnthropicWireMapping.finishReason(message["stop_reason"]?.stringValue)),
        ]
        var completion: [String: JSONValue] = [
            "id": .string("chatcmpl-" + (message["id"]?.stringValue ?? "anthropic")),
            "object": "chat.completion",
            "created": .int(Int(now().timeIntervalSince1970)),
            "model": .string(model.isEmpty ? requestedModel : model),
            "choices": [choice],
        ]

        var result = TranslatedResponse(body: [], usage: nil, usageProblem: nil, responseModel: model)
        if let usageValue = message["usage"], !usageValue.isNull {
            let reading = AnthropicWireMapping.UsageReading(usageValue)
            if let problem = reading.problem {
                result.usageProblem = problem
            } else if reading.inputTokens == nil || reading.outputTokens == nil {
                result.usageProblem = "usage lacks input_tokens or output_tokens"
            } else {
                let raw = reading.merged(over: AnthropicUsage(inputTokens: 0, outputTokens: 0))
                do {
                    let usage = try raw.normalized()
                    result.usage = usage
                    completion["usage"] = AnthropicWireMapping.openAIUsage(usage)
                } catch {
                    result.usageProblem = error.description
                    completion["usage"] = AnthropicWireMapping.openAIUsage(raw: raw)
                }
            }
        }
        result.body = JSONValue.object(completion).encoded()
        return result
    }

    func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        let error = JSONValue.parse(body)?["error"]
        return Array(AnthropicWireMapping.openAIErrorBody(status: status, error: error?.objectValue == nil ? nil : error).utf8)
    }

    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        AnthropicChatStreamTranslator(includeUsage: includeUsage, requestedModel: requestedModel,
                                      created: Int(now().timeIntervalSince1970))
    }
}
