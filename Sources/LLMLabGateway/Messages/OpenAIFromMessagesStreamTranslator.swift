import LLMLabCore

/// Turns an OpenAI chat-completions stream (`data: {chunk}` … `data: [DONE]`) into the
/// Anthropic Messages stream an Anthropic client expects, each event written as
/// `event: <type>\ndata: <json>\n\n`, in the documented order:
///
/// 1. `message_start` at the first chunk: the message with empty `content`, the model
///    (OpenAI's, else the requested one) and `usage` all zero — OpenAI reports usage only
///    in its last chunk, so the real counts go in `message_delta` (the official SDKs take
///    `input_tokens` / `cache_*` from `message_delta` when present);
/// 2. per block: `content_block_start`, `content_block_delta`s, `content_block_stop`.
///    Blocks are numbered in the order they open: text (`text_delta`) — index 0 when the
///    model writes before calling tools — then one `tool_use` block per tool call
///    (`input_json_delta` with OpenAI's argument fragments as `partial_json`). A block
///    closes when the next one opens or at `finish_reason`;
/// 3. `message_delta` with `stop_reason` (mapped as for non-streaming answers),
///    `stop_sequence: null` and `usage` (`output_tokens` = completion tokens, plus
///    `input_tokens` = prompt − cached, `cache_read_input_tokens` = cached,
///    `cache_creation_input_tokens` = 0), sent when the usage chunk arrives after the
///    finish reason, else at `[DONE]` (with `output_tokens: 0` when OpenAI sent none);
/// 4. `message_stop` at `data: [DONE]`: ``isComplete``.
///
/// An OpenAI `{"error": …}` event becomes `event: error` with
/// `{"type":"error","error":{"type":…,"message":…}}` (``streamError``: rate limit →
/// `.rateLimited`, else `.serverError`); nothing but `[DONE]` is read after it. SSE
/// comments (keep-alives) become `ping` events so idle clients stay connected.
/// Unreadable chunks are skipped. If the upstream ends without `[DONE]`, nothing is
/// invented.
struct OpenAIChatToMessagesStreamTranslator: StreamTranslator {
    let messageID: String
    let requestedModel: String
    private var framer = SSEEventFramer()
    private var started = false
    /// The block open for deltas: its index, and whether it is the text block.
    private var openBlock: (index: Int, isText: Bool)?
    private var nextBlockIndex = 0
    /// OpenAI tool-call `index` → Anthropic block index.
    private var toolBlocks: [Int: Int] = [:]
    /// Tool-call id → OpenAI tool-call index, and the last index seen (for servers that omit `index`).
    private var toolCallIDs: [String: Int] = [:]
    private var lastToolCall: Int?
    private var stopReason: String?
    private var openAIUsage: OpenAIChatCompletionUsage?
    private var sentMessageDelta = false
    private var failed = false
    private(set) var usage: TokenUsage?
    private(set) var usageProblem: String?
    private(set) var responseModel = ""
    private(set) var isComplete = false
    private(set) var streamError: UpstreamErrorClass?

    init(messageID: String, requestedModel: String) {
        self.messageID = messageID
        self.requestedModel = requestedModel
    }

    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] {
        var out: [UInt8] = []
        for event in try framer.append(piece) { translate(event, into: &out) }
        return out
    }

    mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if let rest = framer.finish() { translate(ArraySlice(rest), into: &out) }
        return out
    }

    private mutating func translate(_ event: ArraySlice<UInt8>, into out: inout [UInt8]) {
        guard !isComplete else { return }
        guard let data = SSEEventFramer.data(of: event) else {
            if !failed, event.contains(where: { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }) {
                Self.write("ping", ["type": "ping"], into: &out)
            }
            return
        }
        if data.elementsEqual("[DONE]".utf8) {
            if !failed { endMessage(into: &out) }
            isComplete = true
            return
        }
        guard !failed, let chunk = JSONValue.parse(data), chunk.objectValue != nil else { return }
        if let error = chunk["error"], !error.isNull {
            writeError(error, into: &out)
            return
        }
        if responseModel.isEmpty, let model = chunk["model"]?.stringValue { responseModel = model }
        startMessage(into: &out)
        let choices = chunk["choices"]?.arrayValue ?? []
        var finishedHere = false
        if let choice = choices.first {
            let delta = choice["delta"]
            if let text = delta?["content"]?.stringValue, !text.isEmpty { appendText(text, into: &out) }
            if let refusal = delta?["refusal"]?.stringValue, !refusal.isEmpty { appendText(refusal, into: &out) }
            for call in delta?["tool_calls"]?.arrayValue ?? [] { appendToolCall(call, into: &out) }
            if let reason = choice["finish_reason"]?.stringValue {
                stopReason = MessagesToOpenAIChatTranslation.stopReason(reason)
                closeBlock(into: &out)
                finishedHere = true
            }
        }
        if let member = chunk["usage"], !member.isNull {
            (openAIUsage, usage, usageProblem) = MessagesToOpenAIChatTranslation.readUsage(member)
            // OpenAI's usage chunk (`"choices": []`) follows the finish reason; some
            // compatible servers put usage on the finishing chunk itself.
            if stopReason != nil, choices.isEmpty || finishedHere { writeMessageDelta(into: &out) }
        }
    }

    private mutating func startMessage(into out: inout [UInt8]) {
        guard !started else { return }
        started = true
        let message: JSONValue = [
            "id": .string(messageID), "type": "message", "role": "assistant", "content": [],
            "model": .string(responseModel.isEmpty ? requestedModel : responseModel),
            "stop_reason": nil, "stop_sequence": nil,
            "usage": ["input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0],
        ]
        Self.write("message_start", ["type": "message_start", "message": message], into: &out)
    }

    private mutating func appendText(_ text: String, into out: inout [UInt8]) {
        let index: Int
        if let open = openBlock, open.isText {
            index = open.index
        } else {
            closeBlock(into: &out)
            index = nextBlockIndex
            nextBlockIndex += 1
            openBlock = (index, true)
            Self.write("content_block_start", ["type": "content_block_start", "index": .int(index),
                                               "content_block": ["type": "text", "text": ""]], into: &out)
        }
        Self.write("content_block_delta", ["type": "content_block_delta", "index": .int(index),
                                           "delta": ["type": "text_delta", "text": .string(text)]], into: &out)
    }

    private mutating func appendToolCall(_ call: JSONValue, into out: inout [UInt8]) {
        // OpenAI always sends `index`; some compatible servers omit it: then a new `id`
        // starts a new call and a fragment without one continues the last.
        let callIndex: Int
        if let index = call["index"]?.intValue {
            callIndex = index
        } else if let id = call["id"]?.stringValue, !id.isEmpty, toolCallIDs[id] == nil {
            callIndex = (toolBlocks.keys.max() ?? -1) + 1
        } else {
            callIndex = call["id"]?.stringValue.flatMap { toolCallIDs[$0] } ?? lastToolCall ?? 0
        }
        lastToolCall = callIndex
        if let id = call["id"]?.stringValue, !id.isEmpty { toolCallIDs[id] = callIndex }
        let index: Int
        if let known = toolBlocks[callIndex] {
            index = known
        } else {
            closeBlock(into: &out)
            index = nextBlockIndex
            nextBlockIndex += 1
            toolBlocks[callIndex] = index
            openBlock = (index, false)
            let block: JSONValue = ["type": "tool_use", "id": .string(call["id"]?.stringValue ?? "call_\(callIndex)"),
                                    "name": .string(call["function"]?["name"]?.stringValue ?? ""), "input": [:]]
            Self.write("content_block_start", ["type": "content_block_start", "index": .int(index), "content_block": block], into: &out)
        }
        // A fragment for a block already closed keeps its own index (clients accumulate by index).
        if let fragment = call["function"]?["arguments"]?.stringValue, !fragment.isEmpty {
            Self.write("content_block_delta", ["type": "content_block_delta", "index": .int(index),
                                               "delta": ["type": "input_json_delta", "partial_json": .string(fragment)]], into: &out)
        }
    }

    private mutating func closeBlock(into out: inout [UInt8]) {
        guard let open = openBlock else { return }
        openBlock = nil
        Self.write("content_block_stop", ["type": "content_block_stop", "index": .int(open.index)], into: &out)
    }

    private mutating func writeMessageDelta(into out: inout [UInt8]) {
        guard !sentMessageDelta else { return }
        sentMessageDelta = true
        let usage: JSONValue = openAIUsage.map { MessagesToOpenAIChatTranslation.anthropicUsage($0) } ?? ["output_tokens": 0]
        Self.write("message_delta", ["type": "message_delta",
                                     "delta": ["stop_reason": .string(stopReason ?? "end_turn"), "stop_sequence": nil],
                                     "usage": usage], into: &out)
    }

    private mutating func endMessage(into out: inout [UInt8]) {
        startMessage(into: &out)
        closeBlock(into: &out)
        writeMessageDelta(into: &out)
        Self.write("message_stop", ["type": "message_stop"], into: &out)
    }

    private mutating func writeError(_ error: JSONValue, into out: inout [UInt8]) {
        failed = true
        let type = error["type"]?.stringValue ?? ""
        let code = error["code"]?.stringValue ?? ""
        let rateLimited = type == "rate_limit_error" || code == "rate_limit_exceeded" || type == "rate_limit_exceeded"
        streamError = rateLimited ? .rateLimited : .serverError
        let message = error["message"]?.stringValue ?? error.stringValue ?? "the upstream reported an error mid-stream"
        Self.write("error", ["type": "error", "error": ["type": .string(rateLimited ? "rate_limit_error" : "api_error"),
                                                        "message": .string(message)]], into: &out)
    }

    private static func write(_ event: String, _ data: JSONValue, into out: inout [UInt8]) {
        out.append(contentsOf: "event: \(event)\ndata: ".utf8)
        out.append(contentsOf: data.encoded())
        out.append(contentsOf: "\n\n".utf8)
    }
}
