import LLMLabCore

/// Anthropic's Messages stream (`event: …` / `data: {…}` SSE events, "Streaming Messages")
/// as OpenAI `chat.completion.chunk` events.
///
/// | Anthropic event | OpenAI chunk(s) |
/// |---|---|
/// | `message_start` | `delta: {"role":"assistant","content":""}`; id, model and input usage recorded |
/// | `content_block_start` `tool_use` | `delta.tool_calls: [{index: k, id, type: function, function: {name, arguments: ""}}]` |
/// | `content_block_delta` `text_delta` | `delta.content` |
/// | `content_block_delta` `input_json_delta` | `delta.tool_calls: [{index: k, function: {arguments}}]` |
/// | `message_delta` | `delta: {}` with the mapped `finish_reason`; usage counts recorded (cumulative) |
/// | `message_stop` | the usage chunk (`choices: []`) when asked for, then `data: [DONE]` |
/// | `error` | `data: {"error":{…OpenAI shape…}}` (the OpenAI SDKs raise on it) |
/// | `ping`, `content_block_stop`, thinking / signature / citation deltas, unknown events | nothing |
///
/// `k` counts tool calls from 0 across the message. Chunks carry `"usage":null` only when
/// the client asked for usage, as OpenAI does. Chunks are written by hand (fixed member
/// order as OpenAI sends them, strings escaped) rather than through `JSONValue`, to keep the
/// per-delta cost at a few appends.
struct AnthropicChatStreamTranslator: StreamTranslator {
    let includeUsage: Bool
    let requestedModel: String
    /// `created` of every chunk (Unix seconds), fixed when the stream starts.
    let created: Int

    private var framer = SSEEventFramer()
    private var completionID = "chatcmpl-anthropic"
    private(set) var responseModel = ""
    private var rawUsage: AnthropicUsage?
    private var shapeProblem: String?
    /// Content block index → OpenAI tool call index.
    private var toolCallIndexes: [Int: Int] = [:]
    /// Everything of a chunk up to its delta: `{"id":…,"choices":[{"index":0,"delta":`.
    private var chunkPrefix: [UInt8] = []
    private(set) var isComplete = false
    private(set) var streamError: UpstreamErrorClass?

    init(includeUsage: Bool, requestedModel: String, created: Int) {
        self.includeUsage = includeUsage
        self.requestedModel = requestedModel
        self.created = created
        rebuildPrefix()
    }

    var usage: TokenUsage? {
        guard shapeProblem == nil, let rawUsage else { return nil }
        return try? rawUsage.normalized()
    }

    var usageProblem: String? {
        if let shapeProblem { return shapeProblem }
        guard let rawUsage else { return nil }
        do {
            _ = try rawUsage.normalized()
            return nil
        } catch {
            return error.description
        }
    }

    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] {
        guard !isComplete else { return [] }
        let events = try framer.append(piece)
        var out: [UInt8] = []
        for event in events {
            handle(event, into: &out, atEnd: false)
            if isComplete { break }
        }
        return out
    }

    mutating func finish() -> [UInt8] {
        guard !isComplete, let rest = framer.finish() else { return [] }
        // An event cut off without its blank line counts only if its data is whole JSON.
        var out: [UInt8] = []
        handle(rest[...], into: &out, atEnd: true)
        return out
    }

    // MARK: Events

    private mutating func handle(_ event: ArraySlice<UInt8>, into out: inout [UInt8], atEnd: Bool) {
        guard let data = SSEEventFramer.data(of: event) else { return }
        guard let json = JSONValue.parse(data), let type = json["type"]?.stringValue else {
            if !atEnd { forwardError(type: nil, message: "the Anthropic stream sent an event that is not JSON with a type", into: &out, class: .invalidResponse) }
            return
        }
        switch type {
        case "message_start":
            let message = json["message"]
            if let id = message?["id"]?.stringValue { completionID = "chatcmpl-" + id }
            if let model = message?["model"]?.stringValue { responseModel = model }
            rebuildPrefix()
            if let usage = message?["usage"], !usage.isNull {
                record(usage)
            } else {
                shapeProblem = shapeProblem ?? "message_start carried no usage"
            }
            appendChunk(delta: #"{"role":"assistant","content":""}"#, into: &out)

        case "content_block_start":
            guard let block = json["content_block"], let index = json["index"]?.intValue else { return }
            switch block["type"]?.stringValue {
            case "text":
                if let text = block["text"]?.stringValue, !text.isEmpty { appendContent(text, into: &out) }
            case "tool_use":
                let callIndex = toolCallIndexes.count
                toolCallIndexes[index] = callIndex
                let id = GatewayError.quoted(block["id"]?.stringValue ?? "")
                let name = GatewayError.quoted(block["name"]?.stringValue ?? "")
                appendChunk(delta: """
                    {"tool_calls":[{"index":\(callIndex),"id":\(id),"type":"function","function":{"name":\(name),"arguments":""}}]}
                    """, into: &out)
            default:
                break  // thinking, redacted_thinking, server tools
            }

        case "content_block_delta":
            guard let delta = json["delta"] else { return }
            switch delta["type"]?.stringValue {
            case "text_delta":
                if let text = delta["text"]?.stringValue, !text.isEmpty { appendContent(text, into: &out) }
            case "input_json_delta":
                guard let index = json["index"]?.intValue, let callIndex = toolCallIndexes[index],
                      let partial = delta["partial_json"]?.stringValue, !partial.isEmpty
                else { return }
                appendChunk(delta: """
                    {"tool_calls":[{"index":\(callIndex),"function":{"arguments":\(GatewayError.quoted(partial))}}]}
                    """, into: &out)
            default:
                break  // thinking_delta, signature_delta, citations_delta
            }

        case "message_delta":
            if let usage = json["usage"], !usage.isNull { record(usage) }
            let reason = AnthropicWireMapping.finishReason(json["delta"]?["stop_reason"]?.stringValue)
            appendChunk(delta: "{}", finishReason: reason, into: &out)

        case "message_stop":
            if includeUsage { appendUsageChunk(into: &out) }
            out.append(contentsOf: "data: [DONE]\n\n".utf8)
            isComplete = true

        case "error":
            let error = json["error"]
            let errorType = error?["type"]?.stringValue
            let errorClass: UpstreamErrorClass = errorType == "rate_limit_error" ? .rateLimited : .serverError
            forwardError(type: errorType, message: error?["message"]?.stringValue, into: &out, class: errorClass)

        default:
            break  // ping, content_block_stop, and event types added later
        }
    }

    private mutating func record(_ usage: JSONValue) {
        let reading = AnthropicWireMapping.UsageReading(usage)
        if let problem = reading.problem { shapeProblem = shapeProblem ?? problem }
        rawUsage = reading.merged(over: rawUsage ?? AnthropicUsage(inputTokens: 0, outputTokens: 0))
    }

    private mutating func forwardError(type: String?, message: String?, into out: inout [UInt8], class errorClass: UpstreamErrorClass) {
        let status = switch type {
        case "rate_limit_error": 429
        case "overloaded_error": 529
        default: 500
        }
        var error: [String: JSONValue] = [:]
        if let type { error["type"] = .string(type) }
        if let message { error["message"] = .string(message) }
        let body = AnthropicWireMapping.openAIErrorBody(status: status, error: .object(error))
        out.append(contentsOf: "data: ".utf8)
        out.append(contentsOf: body.utf8)
        out.append(contentsOf: "\n\n".utf8)
        streamError = errorClass
    }

    // MARK: Chunks

    private mutating func rebuildPrefix() {
        let model = responseModel.isEmpty ? requestedModel : responseModel
        chunkPrefix = Array("""
            {"id":\(GatewayError.quoted(completionID)),"object":"chat.completion.chunk","created":\(created),\
            "model":\(GatewayError.quoted(model)),"choices":[{"index":0,"delta":
            """.utf8)
    }

    private func appendContent(_ text: String, into out: inout [UInt8]) {
        appendChunk(delta: #"{"content":"# + GatewayError.quoted(text) + "}", into: &out)
    }

    private func appendChunk(delta: String, finishReason: String? = nil, into out: inout [UInt8]) {
        out.append(contentsOf: "data: ".utf8)
        out.append(contentsOf: chunkPrefix)
        out.append(contentsOf: delta.utf8)
        out.append(contentsOf: #","logprobs":null,"finish_reason":"#.utf8)
        if let finishReason {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: finishReason.utf8)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: includeUsage ? #"}],"usage":null}"#.utf8 : "}]}".utf8)
        out.append(contentsOf: "\n\n".utf8)
    }

    private func appendUsageChunk(into out: inout [UInt8]) {
        guard let rawUsage, shapeProblem == nil else { return }
        let usage = (try? rawUsage.normalized()).map(AnthropicWireMapping.openAIUsage) ?? AnthropicWireMapping.openAIUsage(raw: rawUsage)
        let model = responseModel.isEmpty ? requestedModel : responseModel
        out.append(contentsOf: """
            data: {"id":\(GatewayError.quoted(completionID)),"object":"chat.completion.chunk","created":\(created),\
            "model":\(GatewayError.quoted(model)),"choices":[],"usage":
            """.utf8)
        out.append(contentsOf: usage.encoded())
        out.append(contentsOf: "}\n\n".utf8)
    }
}
