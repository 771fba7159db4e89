import LLMLabCore

/// Turns a provider's streaming body into the client's stream, piece by piece, reading
/// usage on the way. Bytes arrive in arbitrary pieces (an event may be split anywhere);
/// each call returns the client bytes that are ready, never holding back a complete event.
///
/// One value per upstream response; the proxy calls ``consume(_:)`` for each piece, then
/// ``finish()`` when the upstream body ends (unless ``isComplete`` made it stop earlier).
protocol StreamTranslator: Sendable {
    /// Client bytes for an upstream piece (possibly none while an event is incomplete).
    /// Throws ``SSEEventFramer/EventTooLarge`` for a stream that never ends an event.
    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8]
    /// Client bytes when the upstream body has ended. If the provider never sent its end
    /// of stream (e.g. the connection was cut), this does NOT invent one.
    mutating func finish() -> [UInt8]
    /// Usage read so far, normalised; the final value once the stream is complete.
    var usage: TokenUsage? { get }
    /// Why usage could not be read, when the provider sent it malformed.
    var usageProblem: String? { get }
    /// The model the provider reports; empty until it has said.
    var responseModel: String { get }
    /// The client has received its stream's end (OpenAI `data: [DONE]`, Anthropic
    /// `message_stop`): the proxy settles the call at once.
    var isComplete: Bool { get }
    /// The provider reported an error inside the stream (already forwarded to the client
    /// in the client's API); `nil` otherwise.
    var streamError: UpstreamErrorClass? { get }
}
