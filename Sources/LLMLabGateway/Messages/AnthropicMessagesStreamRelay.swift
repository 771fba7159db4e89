import LLMLabCore

/// Passes an Anthropic Messages stream through to an Anthropic client unchanged — every
/// byte, in order, event by event — while reading what the meter needs:
///
/// - `message_start`: `message.model` and `message.usage` (input, cache read, cache
///   creation with its 5m/1h split, and the first output count);
/// - `message_delta`: `usage.output_tokens` (cumulative: the latest wins); newer API
///   versions repeat `input_tokens` / `cache_*` there too — taken when present;
/// - `message_stop`: the end of the stream (``isComplete``);
/// - `error` (`{"type":"error","error":{"type":"overloaded_error",…}}`): ``streamError``.
///
/// Source for the event shapes: Anthropic's "Streaming Messages" documentation
/// (docs.anthropic.com/en/docs/build-with-claude/streaming).
struct AnthropicMessagesStreamRelay: StreamTranslator {
    private var framer = SSEEventFramer()
    private var counts = AnthropicUsageCounts()
    private(set) var responseModel = ""
    private(set) var isComplete = false
    private(set) var streamError: UpstreamErrorClass?
    /// Events forwarded so far.
    private(set) var forwardedEvents = 0

    init() {}

    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] {
        var out: [UInt8] = []
        for event in try framer.append(piece) {
            inspect(event)
            out.append(contentsOf: event)
            forwardedEvents += 1
        }
        return out
    }

    mutating func finish() -> [UInt8] {
        // A last event without its blank line is still forwarded (and read).
        guard let rest = framer.finish() else { return [] }
        inspect(ArraySlice(rest))
        return rest
    }

    var usage: TokenUsage? { counts.normalized().usage }
    var usageProblem: String? { counts.normalized().problem }

    /// Reads one event; never changes it.
    private mutating func inspect(_ event: ArraySlice<UInt8>) {
        guard let data = SSEEventFramer.data(of: event) else { return }
        let bytes = Array(data)
        guard let document = try? JSONScanner.document(bytes), document.kind == .object,
              let members = try? JSONScanner.members(ofObjectAt: document.range, in: bytes),
              let typeMember = members.last(where: { $0.key == "type" }), typeMember.kind == .string,
              let type = try? JSONScanner.string(at: typeMember.value, in: bytes)
        else { return }
        switch type {
        case "message_start":
            // Only now is the (small) event worth a tree.
            guard let message = JSONValue.parse(bytes)?["message"] else { return }
            if let model = message["model"]?.stringValue, !model.isEmpty { responseModel = model }
            if let usage = message["usage"] { counts.merge(usage, path: "message_start.message.usage") }
        case "message_delta":
            if let usage = JSONValue.parse(bytes)?["usage"] { counts.merge(usage, path: "message_delta.usage") }
        case "message_stop":
            isComplete = true
        case "error":
            let errorType = JSONValue.parse(bytes)?["error"]?["type"]?.stringValue
            streamError = errorType == "rate_limit_error" ? .rateLimited : .serverError
        default:
            return  // ping, content_block_*: nothing to read
        }
    }
}

/// Anthropic usage counts gathered from one response (a body's `usage`, or a stream's
/// `message_start` then `message_delta`s): a count seen later replaces an earlier one.
struct AnthropicUsageCounts: Sendable {
    var inputTokens: Int?
    var outputTokens: Int?
    var cacheReadInputTokens: Int?
    var cacheCreationInputTokens: Int?
    var ephemeral5m: Int?
    var ephemeral1h: Int?
    /// `cache_creation` (the TTL split) was present.
    var sawBreakdown = false
    /// The first malformed count, e.g. `message_delta.usage.output_tokens is not an integer`.
    var problem: String?

    /// Takes the counts of a `usage` object; `null` members are "not reported".
    mutating func merge(_ usage: JSONValue, path: String) {
        guard let members = usage.objectValue else {
            if !usage.isNull { problem = problem ?? "\(path) is not an object" }
            return
        }
        func read(_ key: String, _ value: JSONValue?, _ prefix: String) -> Int?? {
            guard let value, !value.isNull else { return .none }
            guard let number = value.intValue else {
                problem = problem ?? "\(prefix).\(key) is not an integer"
                return .none
            }
            return .some(number)
        }
        if let value = read("input_tokens", members["input_tokens"], path) { inputTokens = value }
        if let value = read("output_tokens", members["output_tokens"], path) { outputTokens = value }
        if let value = read("cache_read_input_tokens", members["cache_read_input_tokens"], path) { cacheReadInputTokens = value }
        if let value = read("cache_creation_input_tokens", members["cache_creation_input_tokens"], path) { cacheCreationInputTokens = value }
        if let breakdown = members["cache_creation"], !breakdown.isNull {
            guard breakdown.objectValue != nil else {
                problem = problem ?? "\(path).cache_creation is not an object"
                return
            }
            sawBreakdown = true
            let prefix = "\(path).cache_creation"
            if let value = read("ephemeral_5m_input_tokens", breakdown["ephemeral_5m_input_tokens"], prefix) { ephemeral5m = value }
            if let value = read("ephemeral_1h_input_tokens", breakdown["ephemeral_1h_input_tokens"], prefix) { ephemeral1h = value }
        }
    }

    /// The counts as Anthropic's usage object, when input or output was reported.
    var anthropicUsage: AnthropicUsage? {
        guard inputTokens != nil || outputTokens != nil else { return nil }
        return AnthropicUsage(
            inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0,
            cacheCreationInputTokens: cacheCreationInputTokens, cacheReadInputTokens: cacheReadInputTokens,
            cacheCreation: sawBreakdown ? .init(ephemeral5mInputTokens: ephemeral5m, ephemeral1hInputTokens: ephemeral1h) : nil)
    }

    /// Normalised usage, or why it cannot be read. A malformed count makes the whole usage
    /// unreadable (billing a guess would be worse than reporting the problem).
    func normalized() -> (usage: TokenUsage?, problem: String?) {
        if let problem { return (nil, problem) }
        guard let usage = anthropicUsage else { return (nil, nil) }
        do {
            return (try usage.normalized(), nil)
        } catch {
            return (nil, error.description)
        }
    }
}
