import HTTPTypes
import Foundation
import LLMLabCore

/// Anthropic client (`POST /v1/messages`) → OpenAI-compatible chat completions upstream
/// (OpenAI, Azure OpenAI, or the intermediate shape of a ``ChainedTranslation``).
///
/// Request (Messages → chat completions):
/// - `system` (a string, or text blocks) → a first `system` message (one block: a string;
///   several: text parts, so no separator is invented);
/// - `user` content: `text` → text parts, `image` (`base64` → `data:` URL, `url` →
///   `image_url`); a lone text block becomes a plain string;
/// - `user` `tool_result` blocks → `role: "tool"` messages (placed before the rest of that
///   user turn, as OpenAI requires them right after the assistant's `tool_calls`); content
///   a string or text blocks joined with `\n`; `is_error: true` → content prefixed `Error: `;
/// - `assistant` `tool_use` blocks → `tool_calls` (`arguments` = the input's JSON text,
///   ids kept so the next turn's `tool_result.tool_use_id` matches); `thinking` /
///   `redacted_thinking` blocks are dropped (OpenAI cannot take them back);
/// - `tools` → function tools (`input_schema` → `parameters`); Anthropic's server tools
///   (a `type` other than `custom`) are refused with a 400 naming `tools[i].type`;
/// - `tool_choice` auto/any/tool/none → `"auto"`/`"required"`/`{function}`/`"none"`;
///   `disable_parallel_tool_use: true` → `parallel_tool_calls: false` (only with tools,
///   which OpenAI requires);
/// - `max_tokens` → `max_completion_tokens`; `stop_sequences` → `stop`; `temperature`,
///   `top_p` as they are; `metadata.user_id` → `user`; `stream: true` → also
///   `stream_options: {"include_usage": true}` (the proxy meters from it);
/// - dropped, with no OpenAI equivalent: `thinking`, `top_k`, `cache_control` on blocks
///   (OpenAI caches prompts on its own), `service_tier`, any other member.
///
/// Response (chat.completion → message): text and tool calls become `text` / `tool_use`
/// blocks, `finish_reason` → `stop_reason` (stop → end_turn, length → max_tokens,
/// tool_calls → tool_use, content_filter → refusal), usage → Anthropic's disjoint counts
/// (`input_tokens` = prompt − cached, `cache_read_input_tokens` = cached). The meter gets
/// OpenAI's usage normalised, not a re-reading of the translated body.
///
/// Shapes: Anthropic's Messages API reference and "Streaming Messages" page
/// (docs.anthropic.com/en/api/messages, /en/docs/build-with-claude/streaming), OpenAI's
/// Chat Completions reference (platform.openai.com/docs/api-reference/chat).
struct MessagesToOpenAIChatTranslation: ChatTranslation {
    /// The `id` of a translated message (`msg_…`); replaced in tests.
    var makeMessageID: @Sendable () -> String = {
        "msg_" + UUID().uuidString.filter { $0 != "-" }.lowercased()
    }

    var passesRequestThrough: Bool { false }

    // MARK: Request

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        guard let request = body.objectValue else {
            throw Self.badRequest("the request body must be a JSON object with model, max_tokens and messages", param: nil)
        }
        var out: [String: JSONValue] = ["model": .string(model)]
        var messages: [JSONValue] = []
        if let system = request["system"], !system.isNull {
            messages.append(["role": "system", "content": try Self.systemContent(system)])
        }
        guard let input = request["messages"]?.arrayValue else {
            throw Self.badRequest("messages must be an array of {\"role\", \"content\"} messages", param: "messages")
        }
        for (index, message) in input.enumerated() {
            messages += try Self.translateMessage(message, path: "messages[\(index)]")
        }
        out["messages"] = .array(messages)

        if let maxTokens = request["max_tokens"], !maxTokens.isNull {
            guard let value = maxTokens.intValue, value > 0 else {
                throw Self.badRequest("max_tokens must be a positive integer (e.g. \"max_tokens\": 1024)", param: "max_tokens")
            }
            out["max_completion_tokens"] = .int(value)
        }
        if let stops = request["stop_sequences"], !stops.isNull {
            guard let sequences = stops.arrayValue, sequences.allSatisfy({ $0.stringValue != nil }) else {
                throw Self.badRequest("stop_sequences must be an array of strings", param: "stop_sequences")
            }
            if !sequences.isEmpty { out["stop"] = .array(sequences) }
        }
        for key in ["temperature", "top_p"] {
            guard let value = request[key], !value.isNull else { continue }
            guard value.doubleValue != nil else { throw Self.badRequest("\(key) must be a number", param: key) }
            out[key] = value
        }
        if let metadata = request["metadata"], !metadata.isNull {
            guard metadata.objectValue != nil else {
                throw Self.badRequest("metadata must be an object such as {\"user_id\": \"…\"}", param: "metadata")
            }
            if let user = metadata["user_id"], !user.isNull {
                guard let id = user.stringValue else {
                    throw Self.badRequest("metadata.user_id must be a string", param: "metadata.user_id")
                }
                out["user"] = .string(id)
            }
        }
        var hasTools = false
        if let tools = request["tools"], !tools.isNull {
            guard let list = tools.arrayValue else {
                throw Self.badRequest("tools must be an array of {\"name\", \"description\", \"input_schema\"} tools", param: "tools")
            }
            var translated: [JSONValue] = []
            for (index, tool) in list.enumerated() { translated.append(try Self.translateTool(tool, path: "tools[\(index)]")) }
            if !translated.isEmpty { out["tools"] = .array(translated) }
            hasTools = !translated.isEmpty
        }
        if let choice = request["tool_choice"], !choice.isNull {
            guard let type = choice["type"]?.stringValue else {
                throw Self.badRequest("tool_choice must be an object whose type is auto, any, tool or none", param: "tool_choice.type")
            }
            switch type {
            case "auto": out["tool_choice"] = "auto"
            case "any": out["tool_choice"] = "required"
            case "none": out["tool_choice"] = "none"
            case "tool":
                guard let name = choice["name"]?.stringValue, !name.isEmpty else {
                    throw Self.badRequest("tool_choice.name: field required when tool_choice.type is tool; send the tool's name",
                                          param: "tool_choice.name")
                }
                out["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            default:
                throw Self.badRequest("tool_choice.type must be auto, any, tool or none (got \(type))", param: "tool_choice.type")
            }
            if choice["disable_parallel_tool_use"]?.boolValue == true, hasTools {
                out["parallel_tool_calls"] = false
            }
        }
        if stream {
            out["stream"] = true
            out["stream_options"] = ["include_usage": true]
        }
        return JSONValue.object(out).encoded()
    }

    static func badRequest(_ message: String, param: String?) -> GatewayError {
        GatewayError(.badRequest, .invalidRequest, message, param: param, code: "invalid_request")
    }

    /// `system`: a string, or an array of text blocks.
    private static func systemContent(_ system: JSONValue) throws(GatewayError) -> JSONValue {
        if let text = system.stringValue { return .string(text) }
        guard let blocks = system.arrayValue else {
            throw badRequest("system must be a string or an array of text blocks", param: "system")
        }
        var texts: [String] = []
        for (index, block) in blocks.enumerated() {
            guard block["type"]?.stringValue == "text", let text = block["text"]?.stringValue else {
                throw badRequest("system[\(index)] must be a text block {\"type\": \"text\", \"text\": …}", param: "system[\(index)]")
            }
            texts.append(text)
        }
        return texts.count == 1 ? .string(texts[0]) : .array(texts.map { ["type": "text", "text": .string($0)] })
    }

    /// One Messages message → one or more chat messages.
    private static func translateMessage(_ message: JSONValue, path: String) throws(GatewayError) -> [JSONValue] {
        guard message.objectValue != nil else {
            throw badRequest("\(path) must be an object {\"role\", \"content\"}", param: path)
        }
        guard let role = message["role"]?.stringValue, role == "user" || role == "assistant" else {
            throw badRequest("\(path).role must be \"user\" or \"assistant\" (system prompts go in the top-level system field)",
                             param: "\(path).role")
        }
        guard let content = message["content"], !content.isNull else {
            throw badRequest("\(path).content: field required; send a string or an array of content blocks", param: "\(path).content")
        }
        if let text = content.stringValue {
            return [["role": .string(role), "content": .string(text)]]
        }
        guard let blocks = content.arrayValue else {
            throw badRequest("\(path).content must be a string or an array of content blocks", param: "\(path).content")
        }
        return role == "user" ? try userMessages(blocks, path: path) : [try assistantMessage(blocks, path: path)]
    }

    private static func blockType(_ block: JSONValue, path: String) throws(GatewayError) -> String {
        guard let type = block["type"]?.stringValue else {
            throw badRequest("\(path) must be a content block with a type (text, image, tool_use, tool_result)", param: "\(path).type")
        }
        return type
    }

    private static func userMessages(_ blocks: [JSONValue], path: String) throws(GatewayError) -> [JSONValue] {
        var toolMessages: [JSONValue] = []
        var parts: [JSONValue] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(index)]"
            switch try blockType(block, path: blockPath) {
            case "text":
                guard let text = block["text"]?.stringValue else {
                    throw badRequest("\(blockPath).text must be a string", param: "\(blockPath).text")
                }
                parts.append(["type": "text", "text": .string(text)])
            case "image":
                parts.append(["type": "image_url", "image_url": ["url": .string(try imageURL(block, path: blockPath))]])
            case "tool_result":
                guard let id = block["tool_use_id"]?.stringValue, !id.isEmpty else {
                    throw badRequest("\(blockPath).tool_use_id: field required; send the id of the tool_use block this answers",
                                     param: "\(blockPath).tool_use_id")
                }
                var text = try toolResultText(block["content"], path: "\(blockPath).content")
                if block["is_error"]?.boolValue == true { text = "Error: " + text }
                toolMessages.append(["role": "tool", "tool_call_id": .string(id), "content": .string(text)])
            case let type:
                throw badRequest("\(blockPath).type \(type) cannot be sent to an OpenAI-compatible model; user content may hold text, image and tool_result blocks",
                                 param: "\(blockPath).type")
            }
        }
        guard !parts.isEmpty else { return toolMessages }
        let content: JSONValue = parts.count == 1 && parts[0]["type"] == "text" ? parts[0]["text"]! : .array(parts)
        return toolMessages + [["role": "user", "content": content]]
    }

    /// An image block's source as an OpenAI `image_url.url`.
    private static func imageURL(_ block: JSONValue, path: String) throws(GatewayError) -> String {
        let source = block["source"]
        switch source?["type"]?.stringValue {
        case "base64":
            guard let mediaType = source?["media_type"]?.stringValue, let data = source?["data"]?.stringValue else {
                throw badRequest("\(path).source needs media_type and data for a base64 image", param: "\(path).source")
            }
            return "data:\(mediaType);base64,\(data)"
        case "url":
            guard let url = source?["url"]?.stringValue else {
                throw badRequest("\(path).source.url must be a string", param: "\(path).source.url")
            }
            return url
        default:
            throw badRequest("\(path).source.type must be base64 or url for an OpenAI-compatible model", param: "\(path).source.type")
        }
    }

    /// A `tool_result`'s content as text (OpenAI tool messages carry text only).
    private static func toolResultText(_ content: JSONValue?, path: String) throws(GatewayError) -> String {
        guard let content, !content.isNull else { return "" }
        if let text = content.stringValue { return text }
        guard let blocks = content.arrayValue else {
            throw badRequest("\(path) must be a string or an array of text blocks", param: path)
        }
        var texts: [String] = []
        for (index, block) in blocks.enumerated() {
            guard block["type"]?.stringValue == "text", let text = block["text"]?.stringValue else {
                throw badRequest("\(path)[\(index)]: an OpenAI-compatible model takes only text in tool results; send text blocks",
                                 param: "\(path)[\(index)]")
            }
            texts.append(text)
        }
        return texts.joined(separator: "\n")
    }

    private static func assistantMessage(_ blocks: [JSONValue], path: String) throws(GatewayError) -> JSONValue {
        var texts: [String] = []
        var calls: [JSONValue] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(index)]"
            switch try blockType(block, path: blockPath) {
            case "text":
                guard let text = block["text"]?.stringValue else {
                    throw badRequest("\(blockPath).text must be a string", param: "\(blockPath).text")
                }
                texts.append(text)
            case "tool_use":
                guard let id = block["id"]?.stringValue, !id.isEmpty, let name = block["name"]?.stringValue, !name.isEmpty else {
                    throw badRequest("\(blockPath) needs id and name for a tool_use block", param: blockPath)
                }
                let input = block["input"] ?? [:]
                guard input.objectValue != nil else {
                    throw badRequest("\(blockPath).input must be an object", param: "\(blockPath).input")
                }
                calls.append(["id": .string(id), "type": "function",
                              "function": ["name": .string(name), "arguments": .string(String(decoding: input.encoded(), as: UTF8.self))]])
            case "thinking", "redacted_thinking":
                continue  // a previous Anthropic turn's reasoning: OpenAI cannot take it back
            case let type:
                throw badRequest("\(blockPath).type \(type) cannot be sent to an OpenAI-compatible model; assistant content may hold text and tool_use blocks",
                                 param: "\(blockPath).type")
            }
        }
        var message: [String: JSONValue] = ["role": "assistant"]
        switch texts.count {
        case 0: message["content"] = calls.isEmpty ? "" : .null
        case 1: message["content"] = .string(texts[0])
        default: message["content"] = .array(texts.map { ["type": "text", "text": .string($0)] })
        }
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        return .object(message)
    }

    private static func translateTool(_ tool: JSONValue, path: String) throws(GatewayError) -> JSONValue {
        guard tool.objectValue != nil else {
            throw badRequest("\(path) must be an object {\"name\", \"description\", \"input_schema\"}", param: path)
        }
        if let type = tool["type"]?.stringValue, type != "custom" {
            throw badRequest("\(path).type \(type) is an Anthropic server tool and cannot run on an OpenAI-compatible model; remove it or route this model to Anthropic",
                             param: "\(path).type")
        }
        guard let name = tool["name"]?.stringValue, !name.isEmpty else {
            throw badRequest("\(path).name: field required; send the tool's name", param: "\(path).name")
        }
        guard let schema = tool["input_schema"], schema.objectValue != nil else {
            throw badRequest("\(path).input_schema: field required; send the JSON schema of the tool's input (an object)",
                             param: "\(path).input_schema")
        }
        var function: [String: JSONValue] = ["name": .string(name), "parameters": schema]
        if let description = tool["description"]?.stringValue { function["description"] = .string(description) }
        return ["type": "function", "function": .object(function)]
    }

    // MARK: Response

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        guard let completion = JSONValue.parse(body), completion.objectValue != nil else {
            throw GatewayError.invalidUpstreamResponse("OpenAI", "the body is not a JSON object")
        }
        guard let choice = completion["choices"]?.arrayValue?.first, let message = choice["message"], message.objectValue != nil else {
            throw GatewayError.invalidUpstreamResponse("OpenAI", "choices[0].message is missing")
        }
        var content: [JSONValue] = []
        var text = message["content"]?.stringValue ?? ""
        if text.isEmpty, let refusal = message["refusal"]?.stringValue { text = refusal }
        if !text.isEmpty { content.append(["type": "text", "text": .string(text)]) }
        for (index, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            guard let name = call["function"]?["name"]?.stringValue else {
                throw GatewayError.invalidUpstreamResponse("OpenAI", "choices[0].message.tool_calls[\(index)].function.name is missing")
            }
            let arguments = call["function"]?["arguments"]?.stringValue ?? ""
            let input: JSONValue
            if arguments.allSatisfy(\.isWhitespace) {
                input = [:]
            } else if let parsed = JSONValue.parse(Array(arguments.utf8)), parsed.objectValue != nil {
                input = parsed
            } else {
                throw GatewayError.invalidUpstreamResponse(
                    "OpenAI", "choices[0].message.tool_calls[\(index)].function.arguments is not a JSON object")
            }
            content.append(["type": "tool_use", "id": .string(call["id"]?.stringValue ?? "call_\(index)"),
                            "name": .string(name), "input": input])
        }
        let model = completion["model"]?.stringValue ?? ""
        var response = TranslatedResponse(body: [], responseModel: model)
        var usage: OpenAIChatCompletionUsage?
        if let member = completion["usage"], !member.isNull {
            (usage, response.usage, response.usageProblem) = Self.readUsage(member)
        }
        let translated: JSONValue = [
            "id": .string(makeMessageID()),
            "type": "message",
            "role": "assistant",
            "model": .string(model.isEmpty ? requestedModel : model),
            "content": .array(content),
            "stop_reason": .string(Self.stopReason(choice["finish_reason"]?.stringValue)),
            "stop_sequence": .null,
            "usage": Self.anthropicUsage(usage),
        ]
        response.body = translated.encoded()
        return response
    }

    /// OpenAI `finish_reason` → Anthropic `stop_reason`.
    static func stopReason(_ finishReason: String?) -> String {
        switch finishReason {
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        case "content_filter": "refusal"
        default: "end_turn"  // "stop", or none reported
        }
    }

    /// OpenAI's `usage` read and normalised (or why not).
    static func readUsage(_ member: JSONValue) -> (OpenAIChatCompletionUsage?, TokenUsage?, String?) {
        let usage: OpenAIChatCompletionUsage
        do {
            usage = try JSONDecoder().decode(OpenAIChatCompletionUsage.self, from: Data(member.encoded()))
        } catch {
            return (nil, nil, "usage could not be read: \(error)")
        }
        do {
            return (usage, try usage.normalized(), nil)
        } catch {
            return (usage, nil, error.description)
        }
    }

    /// Anthropic's disjoint `usage` counts for OpenAI's nested ones (zeros when none).
    static func anthropicUsage(_ usage: OpenAIChatCompletionUsage?) -> JSONValue {
        let prompt = usage?.promptTokens ?? 0
        let cached = min(max(usage?.promptTokensDetails?.cachedTokens ?? 0, 0), max(prompt, 0))
        return [
            "input_tokens": .int(max(prompt - cached, 0)),
            "output_tokens": .int(max(usage?.completionTokens ?? 0, 0)),
            "cache_read_input_tokens": .int(cached),
            "cache_creation_input_tokens": 0,
        ]
    }

    // MARK: Errors

    /// An OpenAI error body (`{"error":{"message",…}}`, or anything else) in Anthropic's
    /// shape: `{"type":"error","error":{"type":…,"message":…}}`, the type from the status.
    func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        let value = JSONValue.parse(body)
        var message = value?["error"]?["message"]?.stringValue ?? value?["error"]?.stringValue ?? value?["message"]?.stringValue ?? ""
        if message.isEmpty {
            let text = String(decoding: body.prefix(1000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            message = text.isEmpty ? "the upstream answered HTTP \(status)" : text
        }
        let error: JSONValue = ["type": "error", "error": ["type": .string(Self.anthropicErrorType(status: status)), "message": .string(message)]]
        return error.encoded()
    }

    /// Anthropic's `error.type` for an HTTP status.
    static func anthropicErrorType(status: Int) -> String { AnthropicErrorType.forStatus(status) }

    // MARK: Stream

    /// `includeUsage` does not apply: an Anthropic stream always reports usage in
    /// `message_delta` (the request asked OpenAI for the usage chunk).
    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        OpenAIChatToMessagesStreamTranslator(messageID: makeMessageID(), requestedModel: requestedModel)
    }
}
