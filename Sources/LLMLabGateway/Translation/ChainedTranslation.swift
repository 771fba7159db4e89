import HTTPTypes
import LLMLabCore

/// Two translations in a row through an intermediate API — e.g. an Anthropic client
/// reaching Gemini: `outer` is Messages → OpenAI chat, `inner` is OpenAI chat → Gemini.
///
/// - request: `inner(outer(request))`; the outer's bytes are parsed back into a
///   ``JSONValue`` for the inner (the intermediate body is the proxy's own output, so a
///   parse failure is the proxy's bug: HTTP 500);
/// - response: `outer(inner(response))`, with usage, usage problem and model from the
///   inner (provider) reading — the provider's counts, not a re-reading of the
///   intermediate body (the model falls back to the outer's when the inner has none);
/// - errors: `outer.translateError(inner.translateError(body))`, same status;
/// - stream: ``ChainedStreamTranslator``.
struct ChainedTranslation: ChatTranslation {
    /// Client API → intermediate API.
    let outer: any ChatTranslation
    /// Intermediate API → provider API.
    let inner: any ChatTranslation

    init(outer: any ChatTranslation, inner: any ChatTranslation) {
        self.outer = outer
        self.inner = inner
    }

    var passesRequestThrough: Bool { false }

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        let intermediate = try outer.translateRequest(body, model: model, stream: stream)
        guard let value = JSONValue.parse(intermediate) else {
            throw GatewayError(.internalServerError, .api,
                               "the proxy could not translate this request (its intermediate body is not JSON); report it with this request's x-llmlab-request-id",
                               code: "translation_failed")
        }
        return try inner.translateRequest(value, model: model, stream: stream)
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        let provider = try inner.translateResponse(body, requestedModel: requestedModel)
        var client = try outer.translateResponse(provider.body, requestedModel: requestedModel)
        client.usage = provider.usage
        client.usageProblem = provider.usageProblem
        if !provider.responseModel.isEmpty { client.responseModel = provider.responseModel }
        return client
    }

    func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        outer.translateError(status: status, body: inner.translateError(status: status, body: body))
    }

    /// The inner translator always produces the intermediate stream's usage (e.g. the
    /// OpenAI usage chunk), because the outer one needs it to report usage in the client's
    /// API; `includeUsage` is the client's wish and goes to the outer.
    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        ChainedStreamTranslator(
            inner: inner.makeStreamTranslator(includeUsage: true, requestedModel: requestedModel),
            outer: outer.makeStreamTranslator(includeUsage: includeUsage, requestedModel: requestedModel))
    }
}

/// The provider's stream through `inner` (provider → intermediate), its output through
/// `outer` (intermediate → client). Usage, usage problem and model come from the inner
/// (the provider's own reading; the model falls back to the outer's); ``streamError`` is
/// the inner's, else the outer's (an error the inner forwarded is also seen by the
/// outer); ``isComplete`` is the outer's: the client has received its end of stream.
struct ChainedStreamTranslator: StreamTranslator {
    private(set) var inner: any StreamTranslator
    private(set) var outer: any StreamTranslator

    init(inner: any StreamTranslator, outer: any StreamTranslator) {
        self.inner = inner
        self.outer = outer
    }

    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] {
        let intermediate = try inner.consume(piece)
        guard !intermediate.isEmpty else { return [] }
        return try outer.consume(intermediate)
    }

    mutating func finish() -> [UInt8] {
        let intermediate = inner.finish()
        // `finish` cannot throw: an intermediate event too large to frame is dropped, and
        // the outer's own leftovers still come out.
        var out = intermediate.isEmpty ? [] : (try? outer.consume(intermediate)) ?? []
        out += outer.finish()
        return out
    }

    var usage: TokenUsage? { inner.usage }
    var usageProblem: String? { inner.usageProblem }
    var responseModel: String { inner.responseModel.isEmpty ? outer.responseModel : inner.responseModel }
    var isComplete: Bool { outer.isComplete }
    var streamError: UpstreamErrorClass? { inner.streamError ?? outer.streamError }
}
