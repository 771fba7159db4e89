import AsyncHTTPClient

/// Why an upstream call failed, as counted in `llmlab_proxy_upstream_errors_total` and
/// later used to decide whether to fall back to another deployment.
enum UpstreamErrorClass: String, Sendable {
    /// HTTP 429.
    case rateLimited = "rate_limited"
    /// HTTP 5xx (and Anthropic's 529).
    case serverError = "server_error"
    /// HTTP 4xx other than 429: the request or the provider key is at fault.
    case clientError = "client_error"
    /// No response head within the deadline, or the stream went quiet for too long.
    case timeout
    /// Connection refused, reset, closed, TLS failure.
    case connection
    /// The response could not be read as the provider documents it.
    case invalidResponse = "invalid_response"

    /// The class of an upstream HTTP status, `nil` for success.
    static func of(status: Int) -> UpstreamErrorClass? {
        switch status {
        case 200..<400: nil
        case 429: .rateLimited
        case 400..<500: .clientError
        default: .serverError
        }
    }

    /// The class of an error thrown by the HTTP client.
    static func of(_ error: any Error) -> UpstreamErrorClass {
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout, .deadlineExceeded, .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .writeTimeout:
                return .timeout
            default:
                return .connection
            }
        }
        return .connection
    }
}
