import HTTPTypes

/// Builds an Anthropic Messages request (`POST /v1/messages`) from an OpenAI Chat
/// Completions body.
///
/// Shape decisions (Anthropic "Messages" API reference; OpenAI "Create chat completion"):
/// - `system` / `developer` messages, wherever they are, become the top-level `system`
///   string, their texts joined with a blank line (Anthropic has no system role in
///   `messages`).
/// - Consecutive messages of the same Anthropic role are merged into one message of
///   content blocks (Anthropic requires user/assistant alternation); `tool` messages are
///   user messages of `tool_result` blocks, so a tool result followed by a user message
///   ends up in one user message with the results first, as Anthropic requires.
/// - Empty text blocks are dropped when blocks are built (Anthropic rejects them).
/// - `response_format` `json_schema` → `output_config.format` `{type: json_schema, schema}`
///   (structured outputs, generally available, no beta header); `json_object` has no
///   Anthropic equivalent without a schema → 400; `text` → nothing.
/// - OpenAI-only members (`logprobs`, `seed`, `presence_penalty`, `frequency_penalty`,
///   `logit_bias`, `reasoning_effort`, `store`, `metadata`, `service_tier`,
///   `stream_options`, `modalities`, `prediction`, …) are dropped.
enum AnthropicRequestTranslator {
    /// Anthropic requires `max_tokens`; used when the client sets neither limit.
    static let defaultMaxTokens = 4096

    static func translate(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> JSONValue {
        guard let request = body.objectValue else {
            throw invalid("", "the request body must be a JSON object with model and messages")
        }
        var out: [String: JSONValue] = ["model": .string(model)]
        out["max_tokens"] = .int(try maxTokens(request))
        if stream { out["stream"] = true }

        let (system, messages) = try translateMessages(request["messages"])
        if !system.isEmpty { out["system"] = .string(system.joined(separator: "\n\n")) }
        out["messages"] = .array(messages)

        if let value = request["temperature"], !value.isNull {
            guard value.doubleValue != nil else { throw invalid("temperature", "temperature must be a number; send e.g. 0.7") }
            out["temperature"] = value
        }
        if let value = request["top_p"], !value.isNull {
            guard value.doubleValue != nil else { throw invalid("top_p", "top_p must be a number between 0 and 1") }
            out["top_p"] = value
        }
        if let stops = try stopSequences(request["stop"]) { out["stop_sequences"] = .array(stops) }
        if let value = request["user"], !value.isNull {
            guard let user = value.stringValue else { throw invalid("user", "user must be a string identifying the end user") }
            out["metadata"] = ["user_id": .string(user)]
        }
        if let value = request["n"], !value.isNull {
            guard let n = value.intValue else { throw invalid("n", "n must be an integer; Anthropic models answer with one choice, so send 1 or omit n") }
            guard n == 1 else {
                throw invalid("n", "n must be 1 for an Anthropic model (it returns one choice per request); send n: 1 or omit it, and make separate requests for more choices",
                              code: "unsupported_value")
            }
        }
        if let format = try outputFormat(request["response_format"]) { out["output_config"] = ["format": format] }

        let tools = try translateTools(request["tools"])
        if !tools.isEmpty {
            out["tools"] = .array(tools)
            if let choice = try toolChoice(request["tool_choice"], parallel: request["parallel_tool_calls"]) {
                out["tool_choice"] = choice
            }
        }
        return .object(out)
    }

    // MARK: Members

    private static func maxTokens(_ request: [String: JSONValue]) throws(GatewayError) -> Int {
        for name in ["max_completion_tokens", "max_tokens"] {
            guard let value = request[name], !value.isNull else { continue }
            guard let count = value.intValue, count > 0 else {
                throw invalid(name, "\(name) must be a positive integer (the most tokens to generate)")
            }
            return count
        }
        return defaultMaxTokens
    }

    private static func stopSequences(_ value: JSONValue?) throws(GatewayError) -> [JSONValue]? {
        switch value {
        case nil, .null?: return nil
        case .string(let stop)?: return [.string(stop)]
        case .array(let stops)?:
            for (index, stop) in stops.enumerated() where stop.stringValue == nil {
                throw invalid("stop[\(index)]", "stop must be a string or an array of strings")
            }
            return stops.isEmpty ? nil : stops
        default:
            throw invalid("stop", "stop must be a string or an array of strings")
        }
    }

    private static func outputFormat(_ value: JSONValue?) throws(GatewayError) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        guard let type = value["type"]?.stringValue else {
            throw invalid("response_format.type", "response_format must be an object with type text or json_schema")
        }
        switch type {
        case "text":
            return nil
        case "json_schema":
            guard let schema = value["json_schema"]?["schema"], schema.objectValue != nil else {
                throw invalid("response_format.json_schema.schema", "response_format json_schema needs json_schema.schema, a JSON Schema object")
            }
            return ["type": "json_schema", "schema": schema]
        case "json_object":
            throw invalid("response_format.type",
                          "response_format json_object is not available for Anthropic models; send type json_schema with a schema, or ask for JSON in the prompt",
                          code: "unsupported_value")
        default:
            throw invalid("response_format.type", "response_format.type must be text or json_schema", code: "invalid_value")
        }
    }

    // MARK: Tools

    private static func translateTools(_ value: JSONValue?) throws(GatewayError) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard let tools = value.arrayValue else { throw invalid("tools", "tools must be an array of {type: function, function: {name, description, parameters}}") }
        var out: [JSONValue] = []
        out.reserveCapacity(tools.count)
        for (index, tool) in tools.enumerated() {
            guard tool["type"]?.stringValue == "function" else {
                throw invalid("tools[\(index)].type", "tools[\(index)].type must be function; Anthropic models take function tools only",
                              code: "unsupported_value")
            }
            guard let function = tool["function"], let name = function["name"]?.stringValue, !name.isEmpty else {
                throw invalid("tools[\(index)].function.name", "tools[\(index)].function.name must be a non-empty string")
            }
            var converted: [String: JSONValue] = ["name": .string(name)]
            if let description = function["description"], !description.isNull {
                guard description.stringValue != nil else {
                    throw invalid("tools[\(index)].function.description", "tools[\(index)].function.description must be a string")
                }
                converted["description"] = description
            }
            switch function["parameters"] {
            case nil, .null?:
                converted["input_schema"] = ["type": "object", "properties": [:]]
            case .object(let schema)?:
                converted["input_schema"] = .object(schema)
            default:
                throw invalid("tools[\(index)].function.parameters", "tools[\(index)].function.parameters must be a JSON Schema object")
            }
            if let strict = function["strict"]?.boolValue, strict { converted["strict"] = true }
            out.append(.object(converted))
        }
        return out
    }

    private static func toolChoice(_ value: JSONValue?, parallel: JSONValue?) throws(GatewayError) -> JSONValue? {
        var choice: [String: JSONValue]
        switch value {
        case nil, .null?:
            choice = ["type": "auto"]
        case .string("auto")?:
            choice = ["type": "auto"]
        case .string("required")?:
            choice = ["type": "any"]
        case .string("none")?:
            return ["type": "none"]
        case .object(let object)?:
            guard object["type"]?.stringValue == "function",
                  let name = object["function"]?["name"]?.stringValue, !name.isEmpty
            else {
                throw invalid("tool_choice", "tool_choice must be auto, required, none or {\"type\":\"function\",\"function\":{\"name\":…}}")
            }
            choice = ["type": "tool", "name": .string(name)]
        default:
            throw invalid("tool_choice", "tool_choice must be auto, required, none or {\"type\":\"function\",\"function\":{\"name\":…}}")
        }
        if let parallel, !parallel.isNull {
            guard let allowed = parallel.boolValue else { throw invalid("parallel_tool_calls", "parallel_tool_calls must be a boolean") }
            if !allowed { choice["disable_parallel_tool_use"] = true }
        }
        // An implicit "auto" with no other setting is Anthropic's default: leave it out.
        if value == nil || value == .null, choice.count == 1 { return nil }
        return .object(choice)
    }

    // MARK: Messages

    /// One Anthropic message under construction: its content stays a plain string while it
    /// is a single string message, and becomes blocks once merged or built from parts.
    private struct Pending {
        var role: String
        var text: String?
        var blocks: [JSONValue]

        var content: JSONValue { text.map { .string($0) } ?? .array(blocks) }

        mutating func append(_ other: Pending) {
            if let text {
                blocks = text.isEmpty ? [] : [["type": "text", "text": .string(text)]]
                self.text = nil
            }
            if let otherText = other.text {
                if !otherText.isEmpty { blocks.append(["type": "text", "text": .string(otherText)]) }
            } else {
                blocks.append(contentsOf: other.blocks)
            }
        }
    }

    private static func translateMessages(_ value: JSONValue?) throws(GatewayError) -> (system: [String], messages: [JSONValue]) {
        guard let list = value?.arrayValue else { throw invalid("messages", "messages must be an array of {role, content} objects") }
        var system: [String] = []
        var pending: [Pending] = []
        pending.reserveCapacity(list.count)
        for (index, message) in list.enumerated() {
            let path = "messages[\(index)]"
            guard message.objectValue != nil else { throw invalid(path, "\(path) must be an object with role and content") }
            guard let role = message["role"]?.stringValue else {
                throw invalid("\(path).role", "\(path).role must be one of system, developer, user, assistant, tool")
            }
            let next: Pending
            switch role {
            case "system", "developer":
                system.append(contentsOf: try systemTexts(message["content"], path: "\(path).content"))
                continue
            case "user":
                next = try userMessage(message["content"], path: "\(path).content")
            case "assistant":
                next = try assistantMessage(message, path: path)
            case "tool":
                next = try toolMessage(message, path: path)
            default:
                throw invalid("\(path).role", "\(path).role must be one of system, developer, user, assistant, tool (function messages: send tool messages instead)",
                              code: "invalid_value")
            }
            if pending.last?.role == next.role {
                pending[pending.count - 1].append(next)
            } else {
                pending.append(next)
            }
        }
        return (system, pending.map { ["role": .string($0.role), "content": $0.content] })
    }

    private static func systemTexts(_ content: JSONValue?, path: String) throws(GatewayError) -> [String] {
        switch content {
        case .string(let text)?:
            return text.isEmpty ? [] : [text]
        case .array(let parts)?:
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                    throw invalid("\(path)[\(index)]", "\(path)[\(index)] must be a text part {type: text, text}; system messages take text only")
                }
                if !text.isEmpty { texts.append(text) }
            }
            return texts
        default:
            throw invalid(path, "\(path) must be a string or an array of text parts")
        }
    }

    private static func userMessage(_ content: JSONValue?, path: String) throws(GatewayError) -> Pending {
        switch content {
        case .string(let text)?:
            return Pending(role: "user", text: text, blocks: [])
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            blocks.reserveCapacity(parts.count)
            for (index, part) in parts.enumerated() {
                if let block = try contentBlock(part, path: "\(path)[\(index)]", allowImages: true) { blocks.append(block) }
            }
            return Pending(role: "user", text: nil, blocks: blocks)
        default:
            throw invalid(path, "\(path) must be a string or an array of content parts")
        }
    }

    private static func assistantMessage(_ message: JSONValue, path: String) throws(GatewayError) -> Pending {
        var result: Pending
        switch message["content"] {
        case nil, .null?:
            result = Pending(role: "assistant", text: nil, blocks: [])
        case .string(let text)?:
            result = Pending(role: "assistant", text: text, blocks: [])
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for (index, part) in parts.enumerated() {
                if let block = try contentBlock(part, path: "\(path).content[\(index)]", allowImages: false) { blocks.append(block) }
            }
            result = Pending(role: "assistant", text: nil, blocks: blocks)
        default:
            throw invalid("\(path).content", "\(path).content must be a string, an array of text parts, or null")
        }
        switch message["tool_calls"] {
        case nil, .null?:
            break
        case .array(let calls)?:
            guard !calls.isEmpty else { break }
            var uses: [JSONValue] = []
            uses.reserveCapacity(calls.count)
            for (index, call) in calls.enumerated() {
                uses.append(try toolUse(call, path: "\(path).tool_calls[\(index)]"))
            }
            result.append(Pending(role: "assistant", text: nil, blocks: uses))
        default:
            throw invalid("\(path).tool_calls", "\(path).tool_calls must be an array of {id, type: function, function: {name, arguments}}")
        }
        return result
    }

    private static func toolUse(_ call: JSONValue, path: String) throws(GatewayError) -> JSONValue {
        guard let id = call["id"]?.stringValue, !id.isEmpty else {
            throw invalid("\(path).id", "\(path).id must be the tool call's id (a non-empty string)")
        }
        guard let function = call["function"]?.objectValue else {
            throw invalid("\(path).function", "\(path).function must be an object with name and arguments")
        }
        guard let name = function["name"]?.stringValue, !name.isEmpty else {
            throw invalid("\(path).function.name", "\(path).function.name must be a non-empty string")
        }
        let input: JSONValue
        switch function["arguments"] {
        case nil, .null?:
            input = .object([:])
        case .string(let arguments)?:
            if arguments.isEmpty {
                input = .object([:])
            } else {
                guard let parsed = JSONValue.parse(Array(arguments.utf8)), parsed.objectValue != nil else {
                    throw invalid("\(path).function.arguments",
                                  "\(path).function.arguments must be a string holding a JSON object (the tool's arguments, as the model produced them)",
                                  code: "invalid_value")
                }
                input = parsed
            }
        default:
            throw invalid("\(path).function.arguments", "\(path).function.arguments must be a string holding a JSON object")
        }
        return ["type": "tool_use", "id": .string(id), "name": .string(name), "input": input]
    }

    private static func toolMessage(_ message: JSONValue, path: String) throws(GatewayError) -> Pending {
        guard let id = message["tool_call_id"]?.stringValue, !id.isEmpty else {
            throw invalid("\(path).tool_call_id", "\(path).tool_call_id must name the assistant tool call this message answers")
        }
        let content: JSONValue
        switch message["content"] {
        case .string(let text)?:
            content = .string(text)
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for (index, part) in parts.enumerated() {
                if let block = try contentBlock(part, path: "\(path).content[\(index)]", allowImages: false) { blocks.append(block) }
            }
            content = .array(blocks)
        default:
            throw invalid("\(path).content", "\(path).content must be a string or an array of text parts")
        }
        let block: JSONValue = ["type": "tool_result", "tool_use_id": .string(id), "content": content]
        return Pending(role: "user", text: nil, blocks: [block])
    }

    /// A content part as an Anthropic block; `nil` for an empty text part.
    private static func contentBlock(_ part: JSONValue, path: String, allowImages: Bool) throws(GatewayError) -> JSONValue? {
        guard let type = part["type"]?.stringValue else {
            throw invalid("\(path).type", "\(path).type must be text\(allowImages ? " or image_url" : "")")
        }
        switch type {
        case "text":
            guard let text = part["text"]?.stringValue else { throw invalid("\(path).text", "\(path).text must be a string") }
            return text.isEmpty ? nil : ["type": "text", "text": .string(text)]
        case "refusal" where !allowImages:
            guard let text = part["refusal"]?.stringValue else { throw invalid("\(path).refusal", "\(path).refusal must be a string") }
            return text.isEmpty ? nil : ["type": "text", "text": .string(text)]
        case "image_url" where allowImages:
            guard let url = part["image_url"]?["url"]?.stringValue else {
                throw invalid("\(path).image_url.url", "\(path).image_url.url must be an http(s) URL or a data: URL")
            }
            return ["type": "image", "source": try imageSource(url, path: "\(path).image_url.url")]
        default:
            throw invalid("\(path).type",
                          "\(path).type \(type) cannot be sent to an Anthropic model here; send text\(allowImages ? " or image_url parts" : " parts")",
                          code: "unsupported_value")
        }
    }

    /// `data:<media type>;base64,<data>` → a base64 source; `http(s)://…` → a URL source.
    private static func imageSource(_ url: String, path: String) throws(GatewayError) -> JSONValue {
        if url.hasPrefix("data:") {
            guard let comma = url.firstIndex(of: ",") else {
                throw invalid(path, "\(path) is a data: URL without data; send data:<media type>;base64,<data>", code: "invalid_value")
            }
            let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
            guard header.hasSuffix(";base64") else {
                throw invalid(path, "\(path) must be a base64 data: URL (data:<media type>;base64,<data>)", code: "invalid_value")
            }
            let mediaType = header.dropLast(7)
            guard !mediaType.isEmpty else {
                throw invalid(path, "\(path) must name its media type (data:image/png;base64,…)", code: "invalid_value")
            }
            return ["type": "base64", "media_type": .string(String(mediaType)), "data": .string(String(url[url.index(after: comma)...]))]
        }
        if url.hasPrefix("https://") || url.hasPrefix("http://") {
            return ["type": "url", "url": .string(url)]
        }
        throw invalid(path, "\(path) must be an http(s) URL or a data: URL", code: "invalid_value")
    }

    static func invalid(_ param: String, _ message: String, code: String = "invalid_type") -> GatewayError {
        GatewayError(.badRequest, .invalidRequest, message, param: param.isEmpty ? nil : param, code: code)
    }
}
