import HTTPTypes

/// A client's `POST /v1/chat/completions` body, checked just enough to route and meter it
/// and otherwise forwarded byte for byte.
///
/// Checks: a JSON object, `model` a non-empty string, `messages` an array, `stream` a
/// boolean, `stream_options` an object with a boolean `include_usage`. Everything else
/// is the provider's to judge (its 400 passes through).
struct ChatCompletionRequestBody: Sendable {
    let bytes: [UInt8]
    let model: String
    let stream: Bool
    /// `stream_options.include_usage` is `true`: the client wants the usage chunk.
    let clientRequestedUsage: Bool
    /// The end user the body names (`user`, `safety_identifier`), "" when none.
    var endUser = ""
    /// `max_completion_tokens`, else `max_tokens`, when a non-negative integer (budget
    /// reservations; anything else is the provider's to refuse).
    var maxOutputTokens: Int? = nil
    /// Where the splice for ``upstreamBody(requestUsage:)`` goes.
    private let usagePatch: UsagePatch

    private enum UsagePatch: Sendable {
        /// No `stream_options`: insert a member after the object's `{`.
        case insertMember(at: Int)
        /// `stream_options` is `null`: replace it with an object.
        case replaceOptions(Range<Int>)
        /// `include_usage` is `false` or `null`: replace it with `true`.
        case replaceIncludeUsage(Range<Int>)
        /// `stream_options` is an object without `include_usage`; `hasMembers` decides the comma.
        case insertIntoOptions(at: Int, hasMembers: Bool)
        case none
    }

    static func parse(_ bytes: [UInt8]) throws(GatewayError) -> ChatCompletionRequestBody {
        let fields = try ClientBodyFields.parse(bytes, expecting: "model and messages")
        let model = try fields.model(example: "gpt-4o-mini")
        try fields.requireArray("messages", of: "chat messages")
        let stream = try fields.bool("stream") ?? false
        func member(_ name: String) -> JSONScanner.Member? { fields.member(name) }
        var requestedUsage = false
        var patch = UsagePatch.insertMember(at: fields.document.lowerBound + 1)
        if let options = member("stream_options") {
            switch options.kind {
            case .null:
                patch = .replaceOptions(options.value)
            case .object:
                let optionMembers = (try? JSONScanner.members(ofObjectAt: options.value, in: bytes)) ?? []
                if let include = optionMembers.last(where: { $0.key == "include_usage" }), include.kind != .null {
                    guard include.kind == .bool else {
                        throw GatewayError(.badRequest, .invalidRequest, "stream_options.include_usage must be true or false",
                                           param: "stream_options.include_usage", code: "invalid_type")
                    }
                    requestedUsage = JSONScanner.bool(at: include.value, in: bytes)
                    patch = requestedUsage ? .none : .replaceIncludeUsage(include.value)
                } else if let include = optionMembers.last(where: { $0.key == "include_usage" }) {
                    patch = .replaceIncludeUsage(include.value)  // "include_usage": null
                } else {
                    patch = .insertIntoOptions(at: options.value.lowerBound + 1, hasMembers: !optionMembers.isEmpty)
                }
            default:
                throw GatewayError(.badRequest, .invalidRequest, "stream_options must be an object such as {\"include_usage\": true}",
                                   param: "stream_options", code: "invalid_type")
            }
        }
        func integer(_ name: String) -> Int? { fields.integer(name).flatMap { $0 >= 0 ? $0 : nil } }
        var body = ChatCompletionRequestBody(bytes: bytes, model: model, stream: stream, clientRequestedUsage: requestedUsage,
                                             usagePatch: patch)
        body.maxOutputTokens = integer("max_completion_tokens") ?? integer("max_tokens")
        body.endUser = fields.endUser()
        return body
    }

    /// Whether the proxy must ask upstream for usage the client did not ask for (and then
    /// strip that chunk from the client's stream).
    var needsInjectedUsage: Bool { stream && !clientRequestedUsage }

    /// The body to send upstream: the client's bytes, with `stream_options.include_usage`
    /// set to `true` when ``needsInjectedUsage``.
    func upstreamBody() -> [UInt8] {
        guard needsInjectedUsage else { return bytes }
        var out = bytes
        switch usagePatch {
        case .insertMember(let offset):
            // `model` exists, so the object has members and the comma is always right.
            out.insert(contentsOf: Array(#""stream_options":{"include_usage":true},"#.utf8), at: offset)
        case .replaceOptions(let range):
            out.replaceSubrange(range, with: Array(#"{"include_usage":true}"#.utf8))
        case .replaceIncludeUsage(let range):
            out.replaceSubrange(range, with: Array("true".utf8))
        case .insertIntoOptions(let offset, let hasMembers):
            out.insert(contentsOf: Array((#""include_usage":true"# + (hasMembers ? "," : "")).utf8), at: offset)
        case .none:
            break
        }
        return out
    }
}
