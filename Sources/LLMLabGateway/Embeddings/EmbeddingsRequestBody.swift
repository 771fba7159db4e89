import HTTPTypes
/// A client's `POST /v1/embeddings` body (OpenAI), checked just enough to route and meter
/// it: a JSON object, `model` a non-empty string, `input` a string or an array (of
/// strings, token ids or token-id arrays). Everything else is the provider's to judge.
struct EmbeddingsRequestBody: Sendable {
    let bytes: [UInt8]
    let model: String

    static func parse(_ bytes: [UInt8]) throws(GatewayError) -> EmbeddingsRequestBody {
        guard let document = try? JSONScanner.document(bytes), document.kind == .object,
              let members = try? JSONScanner.members(ofObjectAt: document.range, in: bytes)
        else {
            throw GatewayError(.badRequest, .invalidRequest,
                               "the request body must be a JSON object with model and input (e.g. {\"model\":\"text-embedding-3-small\",\"input\":\"hello\"})",
                               code: "invalid_json")
        }
        func member(_ name: String) -> JSONScanner.Member? { members.last { $0.key == name } }
        guard let modelMember = member("model"), modelMember.kind != .null else {
            throw GatewayError(.badRequest, .invalidRequest, "you must provide a model parameter (e.g. \"model\": \"text-embedding-3-small\")",
                               param: "model", code: "missing_required_parameter")
        }
        guard modelMember.kind == .string, let model = try? JSONScanner.string(at: modelMember.value, in: bytes), !model.isEmpty else {
            throw GatewayError(.badRequest, .invalidRequest, "model must be a non-empty string naming the model", param: "model",
                               code: "invalid_type")
        }
        guard let input = member("input"), input.kind != .null else {
            throw GatewayError(.badRequest, .invalidRequest, "you must provide an input parameter: a string or an array of strings",
                               param: "input", code: "missing_required_parameter")
        }
        guard input.kind == .string || input.kind == .array else {
            throw GatewayError(.badRequest, .invalidRequest, "input must be a string or an array of strings (or of token ids)",
                               param: "input", code: "invalid_type")
        }
        if input.kind == .array, JSONScanner.isEmptyArray(input.value, in: bytes) {
            throw GatewayError(.badRequest, .invalidRequest, "input must not be an empty array; send at least one string",
                               param: "input", code: "invalid_value")
        }
        return EmbeddingsRequestBody(bytes: bytes, model: model)
    }

    /// The body with every top-level `model` replaced (route deployments).
    func upstreamBody(model: String) -> [UInt8] {
        guard model != self.model,
              let document = try? JSONScanner.document(bytes), document.kind == .object,
              let members = try? JSONScanner.members(ofObjectAt: document.range, in: bytes)
        else { return bytes }
        var out = bytes
        let replacement = Array(GatewayError.quoted(model).utf8)
        for member in members.reversed() where member.key == "model" {
            out.replaceSubrange(member.value, with: replacement)
        }
        return out
    }
}
