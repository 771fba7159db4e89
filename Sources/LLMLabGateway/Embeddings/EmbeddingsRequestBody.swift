import HTTPTypes
/// A client's `POST /v1/embeddings` body (OpenAI), checked just enough to route and meter
/// it: a JSON object, `model` a non-empty string, `input` a string or an array (of
/// strings, token ids or token-id arrays). Everything else is the provider's to judge.
struct EmbeddingsRequestBody: Sendable {
    let bytes: [UInt8]
    let model: String
    /// `user`, "" when none.
    var endUser = ""

    static func parse(_ bytes: [UInt8]) throws(GatewayError) -> EmbeddingsRequestBody {
        let fields = try ClientBodyFields.parse(bytes, expecting: "model and input (e.g. {\"model\":\"text-embedding-3-small\",\"input\":\"hello\"})")
        let model = try fields.model(example: "text-embedding-3-small")
        func member(_ name: String) -> JSONScanner.Member? { fields.member(name) }
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
        return EmbeddingsRequestBody(bytes: bytes, model: model, endUser: fields.endUser())
    }

    /// The body with every top-level `model` replaced (route deployments).
    func upstreamBody(model: String) -> [UInt8] {
        model == self.model ? bytes : ClientBodyFields.replacingModel(in: bytes, with: model)
    }
}
