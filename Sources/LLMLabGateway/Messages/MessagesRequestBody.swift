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

    static func parse(_ bytes: [UInt8]) throws(GatewayError) -> MessagesRequestBody {
        let document: (kind: JSONScanner.Kind, range: Range<Int>)
        do {
            document = try JSONScanner.document(bytes)
        } catch {
            throw GatewayError(.badRequest, .invalidRequest,
                               bytes.isEmpty ? "the request body is empty; send a JSON object with model, max_tokens and messages"
                                             : "the request body is not valid JSON (\(error)); send a JSON object with model, max_tokens and messages",
                               code: "invalid_json")
        }
        guard document.kind == .object else {
            throw GatewayError(.badRequest, .invalidRequest, "the request body must be a JSON object with model, max_tokens and messages",
                               code: "invalid_json")
        }
        let members: [JSONScanner.Member]
        do {
            members = try JSONScanner.members(ofObjectAt: document.range, in: bytes)
        } catch {
            throw GatewayError(.badRequest, .invalidRequest, "the request body is not valid JSON (\(error))", code: "invalid_json")
        }
        // The last of duplicate members wins, as in most JSON parsers.
        func member(_ name: String) -> JSONScanner.Member? { members.last { $0.key == name } }

        guard let modelMember = member("model"), modelMember.kind != .null else {
            throw GatewayError(.badRequest, .invalidRequest, "model: field required; send the model to use (e.g. \"model\": \"claude-sonnet-4-5\")",
                               param: "model", code: "missing_required_parameter")
        }
        guard modelMember.kind == .string, let model = try? JSONScanner.string(at: modelMember.value, in: bytes), !model.isEmpty else {
            throw GatewayError(.badRequest, .invalidRequest, "model must be a non-empty string naming the model", param: "model",
                               code: "invalid_type")
        }
        guard let messages = member("messages"), messages.kind != .null else {
            throw GatewayError(.badRequest, .invalidRequest,
                               "messages: field required; send an array of {\"role\": \"user\"|\"assistant\", \"content\": …} messages",
                               param: "messages", code: "missing_required_parameter")
        }
        guard messages.kind == .array else {
            throw GatewayError(.badRequest, .invalidRequest, "messages must be an array of {\"role\", \"content\"} messages",
                               param: "messages", code: "invalid_type")
        }
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
        var stream = false
        if let streamMember = member("stream"), streamMember.kind != .null {
            guard streamMember.kind == .bool else {
                throw GatewayError(.badRequest, .invalidRequest, "stream must be true or false", param: "stream", code: "invalid_type")
            }
            stream = JSONScanner.bool(at: streamMember.value, in: bytes)
        }
        return MessagesRequestBody(bytes: bytes, model: model, stream: stream, maxOutputTokens: maxOutputTokens)
    }

    /// The body to send to an Anthropic upstream: the client's bytes with every top-level
    /// `model` member's value replaced by `model` (a route deployment's model). Nothing else
    /// changes: key order, numbers and whitespace survive.
    func upstreamBody(model: String) -> [UInt8] {
        guard model != self.model else { return bytes }
        return Self.replacingTopLevelMember("model", with: Array(GatewayError.quoted(model).utf8), in: bytes)
    }

    /// The body as a value, for a translation into another provider's API.
    func value() throws(GatewayError) -> JSONValue {
        guard let value = JSONValue.parse(bytes) else {
            // Unreachable for a parsed body (already validated), but never crash on it.
            throw GatewayError(.badRequest, .invalidRequest, "the request body is not valid JSON", code: "invalid_json")
        }
        return value
    }

    /// `bytes` with every top-level `name` member's value replaced by `replacement` (a JSON
    /// value's encoding); unchanged when `bytes` is not an object or has no such member.
    static func replacingTopLevelMember(_ name: String, with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard let document = try? JSONScanner.document(bytes), document.kind == .object,
              let members = try? JSONScanner.members(ofObjectAt: document.range, in: bytes)
        else { return bytes }
        var out = bytes
        for member in members.reversed() where member.key == name {
            out.replaceSubrange(member.value, with: replacement)
        }
        return out
    }
}
