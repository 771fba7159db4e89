import HTTPTypes
import LLMLabCore

/// Anthropic client (`POST /v1/messages`) → Anthropic upstream: nothing to translate, only
/// the model to substitute and the usage to read.
///
/// Two request paths:
/// - the fast path (``passesRequestThrough`` is `true`): the engine sends
///   ``MessagesRequestBody/upstreamBody(model:)`` — the client's bytes with only the
///   top-level `model` value spliced (key order, numbers and whitespace kept; no tree is
///   built); ``upstreamBody(_:model:)`` is the same, reachable from the translation;
/// - ``translateRequest(_:model:stream:)`` (the ``ChatTranslation`` entry point): re-encodes
///   the value with `model` replaced and `stream` set, for callers that only hold a
///   ``JSONValue`` (keys come out sorted; integers stay integers).
///
/// Responses and errors pass through byte for byte; the usage (`input_tokens`,
/// `cache_read_input_tokens`, `cache_creation_input_tokens` with the
/// `cache_creation.ephemeral_5m/1h_input_tokens` split, `output_tokens`) and `model` are
/// read on the way.
struct AnthropicMessagesPassthrough: ChatTranslation {
    init() {}

    var passesRequestThrough: Bool { true }

    /// The fast path: `request`'s bytes for the provider, with `model` substituted.
    /// `stream` is the client's own (already in the bytes).
    func upstreamBody(_ request: MessagesRequestBody, model: String) -> [UInt8] {
        request.upstreamBody(model: model)
    }

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        guard var members = body.objectValue else {
            throw GatewayError(.badRequest, .invalidRequest, "the request body must be a JSON object with model, max_tokens and messages",
                               code: "invalid_json")
        }
        members["model"] = .string(model)
        members["stream"] = .bool(stream)
        return JSONValue.object(members).encoded()
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        let document: (kind: JSONScanner.Kind, range: Range<Int>)
        do {
            document = try JSONScanner.document(body)
        } catch {
            throw GatewayError.invalidUpstreamResponse("Anthropic", "the body is not JSON: \(error)")
        }
        guard document.kind == .object, let members = try? JSONScanner.members(ofObjectAt: document.range, in: body) else {
            throw GatewayError.invalidUpstreamResponse("Anthropic", "the body is not a JSON object")
        }
        var response = TranslatedResponse(body: body)
        if let model = members.last(where: { $0.key == "model" }), model.kind == .string {
            response.responseModel = (try? JSONScanner.string(at: model.value, in: body)) ?? ""
        }
        if let usageMember = members.last(where: { $0.key == "usage" }), usageMember.kind != .null {
            var counts = AnthropicUsageCounts()
            if let usage = JSONValue.parse(body[usageMember.value]) {
                counts.merge(usage, path: "usage")
            }
            if counts.problem == nil, counts.inputTokens == nil || counts.outputTokens == nil {
                counts.problem = "usage needs input_tokens and output_tokens"
            }
            (response.usage, response.usageProblem) = counts.normalized()
        }
        return response
    }

    /// Anthropic's error body (`{"type":"error","error":{…}}`) is already the client's shape.
    func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        body
    }

    /// `includeUsage` does not apply: an Anthropic stream always carries its usage.
    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        AnthropicMessagesStreamRelay()
    }
}
