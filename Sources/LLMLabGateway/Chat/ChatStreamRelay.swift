/// Passes an OpenAI chat-completions stream through to the client event by event, reading
/// the usage on the way.
///
/// When the proxy added `stream_options.include_usage` itself, the extra final chunk (the
/// one with `"choices": []` and a `usage` object) is read and dropped, so the client sees
/// exactly the stream it asked for. `data: [DONE]`, comments and every other event pass
/// through unchanged, in order.
struct ChatStreamRelay {
    /// Drop the usage-only chunk (the client did not ask for it).
    let stripUsageChunk: Bool
    private var framer = SSEEventFramer()
    private(set) var usage: ChatCompletionUsage?
    /// The `model` the first chunk that names one reports.
    private(set) var responseModel = ""
    private(set) var sawDone = false
    /// The provider sent an error event (`data: {"error": …}`) inside the stream.
    private(set) var sawError = false
    /// Events forwarded so far.
    private(set) var forwardedEvents = 0

    init(stripUsageChunk: Bool) {
        self.stripUsageChunk = stripUsageChunk
    }

    /// The bytes to forward for an upstream piece (possibly none, while an event is incomplete).
    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] {
        var out: [UInt8] = []
        for event in try framer.append(piece) where keep(event) {
            out.append(contentsOf: event)
            forwardedEvents += 1
        }
        return out
    }

    /// The bytes to forward when the upstream body ends.
    mutating func finish() -> [UInt8] {
        guard let rest = framer.finish() else { return [] }
        return keep(ArraySlice(rest)) ? rest : []
    }

    /// Whether to forward `event`; records usage and `[DONE]`.
    private mutating func keep(_ event: ArraySlice<UInt8>) -> Bool {
        guard let data = SSEEventFramer.data(of: event) else { return true }
        if data.elementsEqual("[DONE]".utf8) {
            sawDone = true
            return true
        }
        let bytes = Array(data)
        guard let document = try? JSONScanner.document(bytes), document.kind == .object,
              let members = try? JSONScanner.members(ofObjectAt: document.range, in: bytes)
        else { return true }
        if members.contains(where: { $0.key == "error" }) { sawError = true }
        if responseModel.isEmpty, let model = members.last(where: { $0.key == "model" }), model.kind == .string {
            responseModel = (try? JSONScanner.string(at: model.value, in: bytes)) ?? ""
        }
        guard let usageMember = members.last(where: { $0.key == "usage" }), usageMember.kind == .object
        else { return true }
        if let usage = ChatCompletionUsage.extract(fromObjectAt: document.range, in: bytes) {
            self.usage = usage
        }
        let choices = members.last { $0.key == "choices" }
        let usageOnly = choices.map { $0.kind == .array && JSONScanner.isEmptyArray($0.value, in: bytes) } ?? true
        return !(usageOnly && stripUsageChunk)
    }
}
