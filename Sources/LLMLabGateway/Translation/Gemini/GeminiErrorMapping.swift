import Foundation
import HTTPTypes

/// Google API errors (`{"error":{"code","message","status","details"}}`, google.rpc.Status)
/// in OpenAI's shape. Status names: https://ai.google.dev/gemini-api/docs/troubleshooting
enum GeminiErrorMapping {
    /// The OpenAI error for a Google error object (or for an unreadable error body).
    static func gatewayError(httpStatus: Int, error: JSONValue?, rawBody: [UInt8] = []) -> GatewayError {
        let status = HTTPResponse.Status(code: httpStatus)
        guard let error, case .object = error else {
            let excerpt = String(decoding: rawBody.prefix(200), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let detail = excerpt.isEmpty ? "" : ": \(excerpt)"
            return GatewayError(status, kind(googleStatus: nil, httpStatus: httpStatus, details: nil),
                                "the gemini upstream answered HTTP \(httpStatus) without a Google error body\(detail)")
        }
        let googleStatus = error["status"]?.stringValue
        let message = error["message"]?.stringValue ?? "the gemini upstream answered HTTP \(httpStatus)"
        return GatewayError(status, kind(googleStatus: googleStatus, httpStatus: httpStatus, details: error["details"]),
                            message, code: googleStatus?.lowercased())
    }

    /// OpenAI's `error.type` for a Google status name; the HTTP status decides when the name
    /// is missing. An invalid API key comes as INVALID_ARGUMENT with reason API_KEY_INVALID:
    /// that is an authentication error.
    static func kind(googleStatus: String?, httpStatus: Int, details: JSONValue?) -> GatewayError.Kind {
        if let details = details?.arrayValue,
           details.contains(where: { $0["reason"]?.stringValue == "API_KEY_INVALID" }) {
            return .authentication
        }
        switch googleStatus {
        case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE": return .invalidRequest
        case "UNAUTHENTICATED": return .authentication
        case "PERMISSION_DENIED": return .permission
        case "NOT_FOUND": return .notFound
        case "RESOURCE_EXHAUSTED": return .rateLimit
        case .some: return .api
        case nil:
            switch httpStatus {
            case 400: return .invalidRequest
            case 401: return .authentication
            case 403: return .permission
            case 404: return .notFound
            case 429: return .rateLimit
            default: return .api
            }
        }
    }

    /// How an error reported inside a stream is counted.
    static func errorClass(of error: JSONValue) -> UpstreamErrorClass {
        if let code = error["code"]?.intValue, let errorClass = UpstreamErrorClass.of(status: code) {
            return errorClass
        }
        switch error["status"]?.stringValue {
        case "RESOURCE_EXHAUSTED": return .rateLimited
        case "DEADLINE_EXCEEDED": return .timeout
        case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND":
            return .clientError
        default: return .serverError
        }
    }
}
