import Foundation
import HTTPTypes

/// An OpenAI chat completion request body as a Gemini `GenerateContentRequest`
/// (https://ai.google.dev/api/generate-content#request-body). The model and `stream` are not
/// in the body: they choose the URL (``GeminiChatTranslation/path(model:stream:)``).
///
/// Members Gemini has no counterpart for (`user`, `metadata`, `store`, `logit_bias`,
/// `parallel_tool_calls`, `stream_options`, …) are ignored, as OpenAI ignores unknown members.
///
/// Shape decisions:
/// - `image_url` with a `data:` URL becomes `inlineData`; an `http(s)` URL becomes
///   `fileData {fileUri, mimeType}` (Gemini fetches it; `mimeType` only when the path's
///   extension names an image type, as FileData's `mimeType` is optional). Other schemes: 400.
/// - `input_audio` becomes `inlineData` with `audio/<format>`; `file` with a `data:` URL in
///   `file_data` becomes `inlineData`.
/// - A `tool` message becomes a user-role `functionResponse` named after the earlier
///   `tool_calls` entry with its `tool_call_id`; `response` is `{"content": …}` holding the
///   message's text parsed as a JSON object when it is one, else the text.
/// - `reasoning_effort` maps to `thinkingConfig.thinkingBudget` with the table of Gemini's
///   OpenAI-compatible endpoint (https://ai.google.dev/gemini-api/docs/openai#thinking):
///   none → 0, minimal/low → 1024, medium → 8192, high → 24576.
struct GeminiRequestBuilder {
    private var contents: [(role: String, parts: [JSONValue])] = []
    private var systemParts: [JSONValue] = []
    /// Function names of the assistant `tool_calls` seen so far, by id (a later id wins).
    private var toolNames: [String: String] = [:]

    static func build(_ body: JSONValue) throws(GatewayError) -> JSONValue {
        var builder = GeminiRequestBuilder()
        return try builder.translate(body)
    }

    private mutating func translate(_ body: JSONValue) throws(GatewayError) -> JSONValue {
        guard case .array(let messages)? = body["messages"] else {
            throw Self.invalid("messages", "messages must be an array of message objects")
        }
        for (index, message) in messages.enumerated() {
            try add(message, param: "messages[\(index)]")
        }
        guard !contents.isEmpty else {
            throw Self.invalid("messages", "messages must contain at least one user, assistant or tool message with content; Gemini cannot answer a system prompt alone", code: "invalid_value")
        }
        var request: [String: JSONValue] = [
            "contents": .array(contents.map { .object(["role": .string($0.role), "parts": .array($0.parts)]) })
        ]
        if !systemParts.isEmpty {
            request["systemInstruction"] = ["parts": .array(systemParts)]
        }
        if let tools = try Self.tools(body["tools"]) { request["tools"] = tools }
        if let toolConfig = try Self.toolConfig(body["tool_choice"]) { request["toolConfig"] = toolConfig }
        let generationConfig = try Self.generationConfig(body)
        if !generationConfig.isEmpty { request["generationConfig"] = .object(generationConfig) }
        return .object(request)
    }

    // MARK: Messages

    private mutating func add(_ message: JSONValue, param: String) throws(GatewayError) {
        guard case .object = message else { throw Self.invalid(param, "\(param) must be a message object") }
        guard let role = message["role"]?.stringValue else {
            throw Self.invalid("\(param).role", "\(param).role must be one of system, developer, user, assistant, tool")
        }
        switch role {
        case "system", "developer":
            systemParts += try Self.textParts(message["content"], param: "\(param).content", allowRefusal: false)
        case "user":
            append("user", try Self.userParts(message["content"], param: "\(param).content"))
        case "assistant":
            var parts = try Self.textParts(message["content"], param: "\(param).content", allowRefusal: true)
            parts += try functionCalls(message["tool_calls"], param: "\(param).tool_calls")
            append("model", parts)
        case "tool":
            guard let id = message["tool_call_id"]?.stringValue else {
                throw Self.invalid("\(param).tool_call_id", "\(param).tool_call_id must be the id of an earlier assistant tool call")
            }
            guard let name = toolNames[id] else {
                throw Self.invalid("\(param).tool_call_id", "\(param).tool_call_id \(GatewayError.quoted(id)) matches no earlier assistant tool_calls entry; send the id of the call this message answers", code: "invalid_value")
            }
            append("user", [try Self.functionResponse(name: name, content: message["content"], param: "\(param).content")])
        case "function":
            guard let name = message["name"]?.stringValue else {
                throw Self.invalid("\(param).name", "\(param).name must name the function whose result this is")
            }
            append("user", [try Self.functionResponse(name: name, content: message["content"], param: "\(param).content")])
        default:
            throw Self.invalid("\(param).role", "\(param).role \(GatewayError.quoted(role)) is not supported; send system, developer, user, assistant or tool", code: "invalid_value")
        }
    }

    /// Consecutive contents of the same role are merged: Gemini expects turns to alternate,
    /// and the responses to parallel function calls to come in one content.
    private mutating func append(_ role: String, _ parts: [JSONValue]) {
        guard !parts.isEmpty else { return }
        if let last = contents.indices.last, contents[last].role == role {
            contents[last].parts += parts
        } else {
            contents.append((role, parts))
        }
    }

    private mutating func functionCalls(_ value: JSONValue?, param: String) throws(GatewayError) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let calls) = value else { throw Self.invalid(param, "\(param) must be an array of tool calls") }
        var parts: [JSONValue] = []
        for (index, call) in calls.enumerated() {
            let callParam = "\(param)[\(index)]"
            guard let id = call["id"]?.stringValue else {
                throw Self.invalid("\(callParam).id", "\(callParam).id must be a string")
            }
            guard let name = call["function"]?["name"]?.stringValue else {
                throw Self.invalid("\(callParam).function.name", "\(callParam).function.name must be a string")
            }
            let argumentsParam = "\(callParam).function.arguments"
            var args: JSONValue = .object([:])
            switch call["function"]?["arguments"] {
            case nil, .null?:
                break
            case .string(let text)?:
                if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    guard let parsed = JSONValue.parse(Array(text.utf8)), case .object = parsed else {
                        throw Self.invalid(argumentsParam, "\(argumentsParam) must be a JSON object encoded as a string, e.g. \"{\\\"city\\\":\\\"Paris\\\"}\"", code: "invalid_value")
                    }
                    args = parsed
                }
            default:
                throw Self.invalid(argumentsParam, "\(argumentsParam) must be a string holding a JSON object")
            }
            toolNames[id] = name
            var part: [String: JSONValue] = ["functionCall": ["name": .string(name), "args": args]]
            if let signature = GeminiThoughtSignature.signature(inToolCallID: id) { part["thoughtSignature"] = .string(signature) }
            parts.append(.object(part))
        }
        return parts
    }

    private static func functionResponse(name: String, content: JSONValue?, param: String) throws(GatewayError) -> JSONValue {
        let text = try textParts(content, param: param, allowRefusal: false).compactMap { $0["text"]?.stringValue }.joined()
        let value: JSONValue
        if let parsed = JSONValue.parse(Array(text.utf8)), case .object = parsed {
            value = parsed
        } else {
            value = .string(text)
        }
        return ["functionResponse": ["name": .string(name), "response": ["content": value]]]
    }

    /// Text-only content (system, developer, assistant, tool): a string or an array of
    /// `text` parts (`refusal` parts too for the assistant).
    private static func textParts(_ content: JSONValue?, param: String, allowRefusal: Bool) throws(GatewayError) -> [JSONValue] {
        switch content {
        case nil, .null?:
            return []
        case .string(let text)?:
            return text.isEmpty ? [] : [["text": .string(text)]]
        case .array(let items)?:
            var parts: [JSONValue] = []
            for (index, item) in items.enumerated() {
                let itemParam = "\(param)[\(index)]"
                switch item["type"]?.stringValue {
                case "text":
                    guard let text = item["text"]?.stringValue else {
                        throw invalid("\(itemParam).text", "\(itemParam).text must be a string")
                    }
                    if !text.isEmpty { parts.append(["text": .string(text)]) }
                case "refusal" where allowRefusal:
                    if let text = item["refusal"]?.stringValue, !text.isEmpty { parts.append(["text": .string(text)]) }
                default:
                    throw invalid("\(itemParam).type", "\(itemParam).type must be \"text\" in this message", code: "invalid_value")
                }
            }
            return parts
        default:
            throw invalid(param, "\(param) must be a string or an array of content parts")
        }
    }

    private static func userParts(_ content: JSONValue?, param: String) throws(GatewayError) -> [JSONValue] {
        guard case .array(let items)? = content else {
            return try textParts(content, param: param, allowRefusal: false)
        }
        var parts: [JSONValue] = []
        for (index, item) in items.enumerated() {
            let itemParam = "\(param)[\(index)]"
            switch item["type"]?.stringValue {
            case "text":
                parts += try textParts(.array([item]), param: param, allowRefusal: false)
            case "image_url":
                let url = item["image_url"]?["url"]?.stringValue ?? item["image_url"]?.stringValue
                guard let url else {
                    throw invalid("\(itemParam).image_url.url", "\(itemParam).image_url.url must be a data: or https: URL")
                }
                parts.append(try imagePart(url, param: "\(itemParam).image_url.url"))
            case "input_audio":
                guard let data = item["input_audio"]?["data"]?.stringValue,
                      let format = item["input_audio"]?["format"]?.stringValue
                else {
                    throw invalid("\(itemParam).input_audio", "\(itemParam).input_audio must have string data (base64) and format")
                }
                parts.append(["inlineData": ["mimeType": .string("audio/\(format)"), "data": .string(data)]])
            case "file":
                guard let fileData = item["file"]?["file_data"]?.stringValue, let inline = dataURL(fileData) else {
                    throw invalid("\(itemParam).file.file_data", "\(itemParam).file.file_data must be a base64 data: URL (file ids cannot be sent to Gemini)", code: "invalid_value")
                }
                parts.append(["inlineData": ["mimeType": .string(inline.mimeType), "data": .string(inline.data)]])
            default:
                throw invalid("\(itemParam).type", "\(itemParam).type must be text, image_url, input_audio or file", code: "invalid_value")
            }
        }
        return parts
    }

    private static func imagePart(_ url: String, param: String) throws(GatewayError) -> JSONValue {
        if url.hasPrefix("data:") {
            guard let inline = dataURL(url) else {
                throw invalid(param, "\(param) must be a base64 data URL (data:<mime type>;base64,<data>)", code: "invalid_value")
            }
            return ["inlineData": ["mimeType": .string(inline.mimeType), "data": .string(inline.data)]]
        }
        let lowered = url.lowercased()
        guard lowered.hasPrefix("https://") || lowered.hasPrefix("http://") else {
            throw invalid(param, "\(param) must be a data: or http(s): URL", code: "invalid_value")
        }
        var fileData: [String: JSONValue] = ["fileUri": .string(url)]
        if let mimeType = imageMimeType(forExtensionOf: url) { fileData["mimeType"] = .string(mimeType) }
        return ["fileData": .object(fileData)]
    }

    /// `data:<mime>;base64,<data>` split; `nil` for any other form.
    static func dataURL(_ url: String) -> (mimeType: String, data: String)? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        let mimeType = header.dropLast(7).split(separator: ";").first.map(String.init) ?? ""
        let data = String(url[url.index(after: comma)...])
        guard !mimeType.isEmpty, !data.isEmpty else { return nil }
        return (mimeType, data)
    }

    static func imageMimeType(forExtensionOf url: String) -> String? {
        guard let path = URL(string: url)?.path else { return nil }
        switch (path as NSString).pathExtension.lowercased() {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "gif": return "image/gif"
        case "heic": return "image/heic"
        case "heif": return "image/heif"
        default: return nil
        }
    }

    // MARK: Tools

    private static func tools(_ value: JSONValue?) throws(GatewayError) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        guard case .array(let tools) = value else { throw invalid("tools", "tools must be an array of function tools") }
        var declarations: [JSONValue] = []
        for (index, tool) in tools.enumerated() {
            let param = "tools[\(index)]"
            guard tool["type"]?.stringValue == "function" else {
                throw invalid("\(param).type", "\(param).type must be \"function\"; Gemini is only sent function tools", code: "invalid_value")
            }
            guard let name = tool["function"]?["name"]?.stringValue else {
                throw invalid("\(param).function.name", "\(param).function.name must be a string")
            }
            var declaration: [String: JSONValue] = ["name": .string(name)]
            if let description = tool["function"]?["description"]?.stringValue {
                declaration["description"] = .string(description)
            }
            if let parameters = tool["function"]?["parameters"], !parameters.isNull {
                guard case .object = parameters else {
                    throw invalid("\(param).function.parameters", "\(param).function.parameters must be a JSON Schema object")
                }
                let schema = GeminiSchema.stripped(parameters)
                if !GeminiSchema.isEmptyObject(schema) { declaration["parameters"] = schema }
            }
            declarations.append(.object(declaration))
        }
        return declarations.isEmpty ? nil : [["functionDeclarations": .array(declarations)]]
    }

    private static func toolConfig(_ value: JSONValue?) throws(GatewayError) -> JSONValue? {
        let mode: String
        var allowed: [JSONValue]?
        switch value {
        case nil, .null?:
            return nil
        case .string(let choice)?:
            switch choice {
            case "auto": mode = "AUTO"
            case "none": mode = "NONE"
            case "required": mode = "ANY"
            default:
                throw invalid("tool_choice", "tool_choice must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":…}}", code: "invalid_value")
            }
        case .object?:
            guard value?["type"]?.stringValue == "function", let name = value?["function"]?["name"]?.stringValue else {
                throw invalid("tool_choice.function.name", "tool_choice must be {\"type\":\"function\",\"function\":{\"name\":…}} to force one function", code: "invalid_value")
            }
            mode = "ANY"
            allowed = [.string(name)]
        default:
            throw invalid("tool_choice", "tool_choice must be a string or an object")
        }
        var config: [String: JSONValue] = ["mode": .string(mode)]
        if let allowed { config["allowedFunctionNames"] = .array(allowed) }
        return ["functionCallingConfig": .object(config)]
    }

    // MARK: Generation config

    static let thinkingBudgets: [String: Int] = ["none": 0, "minimal": 1024, "low": 1024, "medium": 8192, "high": 24576]

    private static func generationConfig(_ body: JSONValue) throws(GatewayError) -> [String: JSONValue] {
        var config: [String: JSONValue] = [:]
        config["temperature"] = try number(body, "temperature")
        config["topP"] = try number(body, "top_p")
        config["presencePenalty"] = try number(body, "presence_penalty")
        config["frequencyPenalty"] = try number(body, "frequency_penalty")
        let maxCompletionTokens = try integer(body, "max_completion_tokens")
        let maxTokens = try integer(body, "max_tokens")
        config["maxOutputTokens"] = maxCompletionTokens ?? maxTokens
        config["candidateCount"] = try integer(body, "n")
        config["seed"] = try integer(body, "seed")
        switch body["stop"] {
        case nil, .null?: break
        case .string(let stop)?: config["stopSequences"] = [.string(stop)]
        case .array(let stops)? where stops.allSatisfy({ $0.stringValue != nil }):
            if !stops.isEmpty { config["stopSequences"] = .array(stops) }
        default: throw invalid("stop", "stop must be a string or an array of strings")
        }
        switch body["response_format"] {
        case nil, .null?: break
        case .object(let format)?:
            switch format["type"]?.stringValue {
            case "text": break
            case "json_object":
                config["responseMimeType"] = "application/json"
            case "json_schema":
                guard case .object? = format["json_schema"]?["schema"], let schema = format["json_schema"]?["schema"] else {
                    throw invalid("response_format.json_schema.schema", "response_format.json_schema.schema must be a JSON Schema object")
                }
                config["responseMimeType"] = "application/json"
                config["responseSchema"] = GeminiSchema.stripped(schema)
            default:
                throw invalid("response_format.type", "response_format.type must be text, json_object or json_schema", code: "invalid_value")
            }
        default:
            throw invalid("response_format", "response_format must be an object")
        }
        switch body["reasoning_effort"] {
        case nil, .null?: break
        case .string(let effort)?:
            guard let budget = thinkingBudgets[effort] else {
                throw invalid("reasoning_effort", "reasoning_effort must be none, minimal, low, medium or high", code: "invalid_value")
            }
            config["thinkingConfig"] = ["thinkingBudget": .int(budget)]
        default:
            throw invalid("reasoning_effort", "reasoning_effort must be a string")
        }
        return config
    }

    private static func number(_ body: JSONValue, _ key: String) throws(GatewayError) -> JSONValue? {
        switch body[key] {
        case nil, .null?: return nil
        case let value? where value.doubleValue != nil: return value
        default: throw invalid(key, "\(key) must be a number")
        }
    }

    private static func integer(_ body: JSONValue, _ key: String) throws(GatewayError) -> JSONValue? {
        switch body[key] {
        case nil, .null?: return nil
        case let value?:
            guard let int = value.intValue else { throw invalid(key, "\(key) must be an integer") }
            return .int(int)
        }
    }

    static func invalid(_ param: String, _ message: String, code: String = "invalid_type") -> GatewayError {
        GatewayError(.badRequest, .invalidRequest, message, param: param, code: code)
    }
}
