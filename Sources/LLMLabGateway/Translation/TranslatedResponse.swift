import LLMLabCore

/// A provider's successful (2xx) non-streaming answer, rewritten into the client's API,
/// with what the meter needs from it.
struct TranslatedResponse: Sendable {
    /// The response body for the client (in the client's API).
    var body: [UInt8]
    /// The provider's usage, normalised into billing classes; `nil` when the answer
    /// carried none (or see ``usageProblem``).
    var usage: TokenUsage?
    /// Why usage could not be read, when it was present but malformed.
    var usageProblem: String?
    /// The model the provider says answered (`model` / `modelVersion`); empty if none.
    var responseModel: String = ""
}
