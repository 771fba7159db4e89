import HTTPTypes
import LLMLabCore

/// The small mappings both the non-streaming and the streaming Anthropic translations use:
/// stop reasons, error types and usage.
enum AnthropicWireMapping {
    /// Anthropic `stop_reason` → OpenAI `finish_reason` ("Handling stop reasons"):
    /// `end_turn`, `stop_sequence`, `pause_turn` (a server tool paused the turn) → `stop`;
    /// `max_tokens`, `model_context_window_exceeded` → `length`; `tool_use` → `tool_calls`;
    /// `refusal` → `content_filter`. Anything else (a newer reason) → `stop`.
    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    /// Anthropic `error.type` (API "Errors": 400 invalid_request_error, 401
    /// authentication_error, 402 billing_error, 403 permission_error, 404 not_found_error,
    /// 413 request_too_large, 429 rate_limit_error, 500 api_error, 504 timeout_error,
    /// 529 overloaded_error) → OpenAI `error.type` and `error.code`.
    static func openAIError(anthropicType: String?, status: Int) -> (kind: GatewayError.Kind, code: String?) {
        switch anthropicType {
        case "invalid_request_error": (.invalidRequest, nil)
        case "authentication_error": (.authentication, "invalid_api_key")
        case "billing_error": (.permission, "billing_error")
        case "permission_error": (.permission, nil)
        case "not_found_error": (.notFound, "not_found")
        case "request_too_large": (.invalidRequest, "request_too_large")
        case "rate_limit_error": (.rateLimit, "rate_limit_exceeded")
        case "api_error": (.api, nil)
        case "timeout_error": (.timeout, "timeout")
        case "overloaded_error": (.api, "overloaded")
        default:
            switch status {
            case 401: (.authentication, anthropicType)
            case 403: (.permission, anthropicType)
            case 404: (.notFound, anthropicType)
            case 429: (.rateLimit, anthropicType)
            case 500...: (.api, anthropicType)
            default: (.invalidRequest, anthropicType)
            }
        }
    }

    /// The client's error body for an Anthropic error object (`{"type","message"}`), or for
    /// an error answer that is not in Anthropic's shape.
    static func openAIErrorBody(status: Int, error: JSONValue?) -> String {
        let type = error?["type"]?.stringValue
        let (kind, code) = openAIError(anthropicType: type, status: status)
        let message = error?["message"]?.stringValue
            ?? "the Anthropic API answered HTTP \(status)\(type.map { " (\($0))" } ?? "") without an error message"
        return GatewayError(HTTPResponse.Status(code: status), kind, message, code: code).body
    }

    /// Reads Anthropic's `usage` object. A missing member is `nil`; a member that is not
    /// an integer is a shape problem.
    struct UsageReading {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheCreationInputTokens: Int?
        var cacheReadInputTokens: Int?
        var cacheCreation: AnthropicUsage.CacheCreation?
        var problem: String?

        init(_ usage: JSONValue) {
            guard usage.objectValue != nil else {
                problem = "usage is not an object"
                return
            }
            inputTokens = read(usage, "input_tokens")
            outputTokens = read(usage, "output_tokens")
            cacheCreationInputTokens = read(usage, "cache_creation_input_tokens")
            cacheReadInputTokens = read(usage, "cache_read_input_tokens")
            if let breakdown = usage["cache_creation"], !breakdown.isNull {
                if breakdown.objectValue == nil {
                    problem = problem ?? "usage cache_creation is not an object"
                } else {
                    cacheCreation = AnthropicUsage.CacheCreation(
                        ephemeral5mInputTokens: read(breakdown, "ephemeral_5m_input_tokens", prefix: "cache_creation."),
                        ephemeral1hInputTokens: read(breakdown, "ephemeral_1h_input_tokens", prefix: "cache_creation."))
                }
            }
        }

        private mutating func read(_ object: JSONValue, _ key: String, prefix: String = "") -> Int? {
            guard let value = object[key], !value.isNull else { return nil }
            guard let count = value.intValue else {
                problem = problem ?? "usage \(prefix)\(key) is not an integer"
                return nil
            }
            return count
        }

        /// Later counts win over earlier ones (a stream's `message_delta` over `message_start`).
        func merged(over earlier: AnthropicUsage) -> AnthropicUsage {
            AnthropicUsage(
                inputTokens: inputTokens ?? earlier.inputTokens,
                outputTokens: outputTokens ?? earlier.outputTokens,
                cacheCreationInputTokens: cacheCreationInputTokens ?? earlier.cacheCreationInputTokens,
                cacheReadInputTokens: cacheReadInputTokens ?? earlier.cacheReadInputTokens,
                cacheCreation: cacheCreation ?? earlier.cacheCreation)
        }
    }

    /// OpenAI's `usage` object for normalised Anthropic usage: OpenAI's `prompt_tokens`
    /// includes cached tokens, so it is the sum of Anthropic's disjoint input counts
    /// (uncached + cache read + cache writes); `cached_tokens` is the cache read.
    static func openAIUsage(_ usage: TokenUsage) -> JSONValue {
        let prompt = usage.uncachedInput + usage.cacheRead + usage.cacheWrite5m + usage.cacheWrite1h
        return [
            "prompt_tokens": .int(prompt),
            "completion_tokens": .int(usage.output),
            "total_tokens": .int(prompt + usage.output),
            "prompt_tokens_details": ["cached_tokens": .int(usage.cacheRead)],
        ]
    }

    /// ``openAIUsage(_:)`` for usage that does not normalise (e.g. writes that do not add
    /// up): the raw counts, so the client still gets numbers.
    static func openAIUsage(raw usage: AnthropicUsage) -> JSONValue {
        let writes = usage.cacheCreationInputTokens
            ?? ((usage.cacheCreation?.ephemeral5mInputTokens ?? 0) + (usage.cacheCreation?.ephemeral1hInputTokens ?? 0))
        return openAIUsage(TokenUsage(uncachedInput: usage.inputTokens, cacheRead: usage.cacheReadInputTokens ?? 0,
                                      cacheWrite5m: writes, output: usage.outputTokens))
    }
}
