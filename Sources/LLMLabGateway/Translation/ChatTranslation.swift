import LLMLabCore

/// Translates one client API into one provider API and the provider's answers back — e.g.
/// an OpenAI chat completion for Anthropic's Messages API. The extension point for a new
/// provider: the proxy's engine (retries, fallback, metering, streaming) does not change.
///
/// Implementations are pure: bytes in, bytes out, no I/O, so every shape is unit-tested.
protocol ChatTranslation: Sendable {
    /// The provider speaks the client's API: the engine sends the client's own bytes (model
    /// substituted) instead of calling ``translateRequest(_:model:stream:)``. Default `false`.
    var passesRequestThrough: Bool { get }
    /// The provider's request body for the client's `body` (already checked to be a JSON
    /// object with the client API's required members). `model` is the provider model to
    /// call (route deployments substitute it). Throws a ``GatewayError`` naming the field
    /// for a client request the provider cannot express (HTTP 400).
    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8]
    /// The client's body for the provider's 2xx non-streaming answer. Throws a
    /// ``GatewayError`` (502, code `upstream_invalid_response`) when it cannot be read.
    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse
    /// The client's error body for a provider error answer (any non-2xx status), keeping
    /// the provider's message; used when the error is passed through to the client.
    func translateError(status: Int, body: [UInt8]) -> [UInt8]
    /// A translator for the provider's stream. `includeUsage`: the client asked for a usage
    /// chunk (OpenAI `stream_options.include_usage`); `requestedModel` names the model in
    /// chunks when the provider does not.
    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator
}
