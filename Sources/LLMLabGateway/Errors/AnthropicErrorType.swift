/// Anthropic's `error.type` for an HTTP status (docs.anthropic.com/en/api/errors): used for
/// the proxy's own errors on `/v1/messages` and for provider errors translated into
/// Anthropic's shape.
enum AnthropicErrorType {
    static func forStatus(_ status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503, 529: "overloaded_error"
        case 504: "timeout_error"
        case 500..<600: "api_error"
        default: "invalid_request_error"  // 400, 422 and any other 4xx
        }
    }
}
