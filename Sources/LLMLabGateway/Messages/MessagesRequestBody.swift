import HTTPTypes
/// A client's `POST /v1/messages` body (Anthropic Messages API), checked just enough to
/// route and meter it and otherwise kept byte for byte (like ``ChatCompletionRequestBody``).
///
/// Checks: a JSON object, `model` a non-empty string, `messages` an array, `max_tokens` a
/// positive integer (Anthropic requires it, and the budget reservation needs it),
/// `stream` a boolean when present. Everything else is the provider's (or the
/// translation's) to judge.
struct MessagesRequestBody: Sendable {
    let bytes: [UInt8]
    let model: String
    let stream: Bool
    /// `max_tokens`: always present and positive once parsed.
    let maxOutputTokens: Int
    /// `metadata.user_id` (or an OpenAI-style `user`), "" when none.
    var endUser = ""

    static func parse(_ bytes: [UInt8]) throws(GatewayError) -> MessagesRequestBody {
        let fields = try ClientBodyFields.parse(bytes, expecting: "model, max_tokens and messages")
        let model = try fields.model(example: "claude-sonnet-4-5")
        try fields.requireArray("messages", of: "{\"role\": \"user\"|\"assistant\", \"content\": …} messages")
        func member(_ name: String) -> JSONScanner.Member? { fields.member(name) }
        guard let maxTokens = member("max_tokens"), maxTokens.kind != .null else {
            throw GatewayError(.badRequest, .invalidRequest,
                               "max_tokens: field required; send the maximum number of tokens to generate (a positive integer, e.g. \"max_tokens\": 1024)",
                               param: "max_tokens", code: "missing_required_parameter")
        }
        // Digits only: "1.0", "1e3" and negatives are refused, as Anthropic does.
        guard maxTokens.kind == .number,
              let maxOutputTokens = Int(String(decoding: bytes[maxTokens.value], as: UTF8.self)), maxOutputTokens > 0
        else {
            throw GatewayError(.badRequest, .invalidRequest, "max_tokens must be a positive integer (e.g. \"max_tokens\": 1024)",
                               param: "max_tokens", code: "invalid_value")
        }
        return MessagesRequestBody(bytes: bytes, model: model, stream: try fields.bool("stream") ?? false, maxOutputTokens: maxOutputTokens,
                                   endUser: fields.endUser())
    }

    /// The body to send to an Anthropic upstream: the client's bytes with every top-level
    /// `model` member's value replaced by `model` (a route deployment's model). Nothing else
    /// changes: key order, numbers and whitespace survive.
    func upstreamBody(model: String) -> [UInt8] {
        guard model != self.model else { return bytes }
        return ClientBodyFields.replacingModel(in: bytes, with: model)
    }

    /// The body as a value, for a translation into another provider's API.
    func value() throws(GatewayError) -> JSONValue {
        guard let value = JSONValue.parse(bytes) else {
            // Unreachable for a parsed body (already validated), but never crash on it.
            throw GatewayError(.badRequest, .invalidRequest, "the request body is not valid JSON", code: "invalid_json")
        }
        return value
    }
}
