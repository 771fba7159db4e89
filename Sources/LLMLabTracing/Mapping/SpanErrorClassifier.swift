/// Why a span failed, from its status, `error.type` (OpenTelemetry "Recording errors"),
/// HTTP status, finish reason and `exception` events.
struct SpanErrorClassification: Sendable, Hashable {
    var isError: Bool
    var flags: SpanErrorFlags
    var message: String
}

enum SpanErrorClassifier {
    /// Finish reasons that mean the model hit its output limit: OpenAI `length`, Anthropic
    /// `max_tokens`, Gemini `MAX_TOKENS`, OpenAI Responses `max_output_tokens`.
    static let tokenLimitReasons: Set<String> = ["length", "max_tokens", "max_output_tokens", "model_context_window_exceeded"]

    static func classify(_ span: RawSpan, _ reader: SpanAttributeReader, category: SpanCategory,
                         finishReasons: [String]) -> SpanErrorClassification {
        var flags: SpanErrorFlags = []
        let statusError = span.statusCode == 2
        let errorType = reader.string("error.type") ?? ""
        let exceptions = span.events.filter { $0.name == "exception" }
        let exceptionReader = exceptions.first.map { SpanAttributeReader(attributes: $0.attributes) }
        let exceptionMessage = exceptionReader?.string("exception.message") ?? ""
        let exceptionType = exceptionReader?.string("exception.type") ?? ""

        if let status = reader.int(["http.response.status_code", "http.status_code"]), status.value >= 400 {
            flags.insert(.apiError)
        }
        if !errorType.isEmpty {
            // On a tool span, `error.type` describes the tool's failure, not a provider's.
            flags.insert(category == .tool ? .toolError : .apiError)
        }
        if finishReasons.contains(where: { tokenLimitReasons.contains($0.lowercased()) }) {
            flags.insert(.tokenLimit)
        }
        if !exceptions.isEmpty {
            flags.insert(.exception)
        }
        if category == .tool && (statusError || !errorType.isEmpty || !exceptions.isEmpty) {
            flags.insert(.toolError)
        }
        let texts = [errorType, span.statusMessage, exceptionType, exceptionMessage] + exceptions.dropFirst().compactMap {
            SpanAttributeReader(attributes: $0.attributes).string("exception.type")
        }
        if texts.contains(where: mentionsTimeout) {
            flags.insert(.timeout)
        }

        let message = !span.statusMessage.isEmpty ? span.statusMessage
            : !exceptionMessage.isEmpty ? exceptionMessage
            : errorType
        // A token-limit finish alone is a warning (the answer was cut short), not a failure.
        return SpanErrorClassification(isError: statusError || !flags.subtracting(.tokenLimit).isEmpty, flags: flags, message: message)
    }

    /// `timeout`, `TimeoutError`, `APITimeoutError`, `ReadTimeout`, "Request timed out."…
    static func mentionsTimeout(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("timeout") || lower.contains("timed out") || lower.contains("deadline exceeded")
            || lower.contains("deadline_exceeded")
    }
}
