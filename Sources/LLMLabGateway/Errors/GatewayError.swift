public import HTTPTypes
public import Hummingbird
import Foundation
import LLMLabCore
import LLMLabStore

/// An error the proxy answers with, in OpenAI's shape
/// (`{"error":{"message","type","param","code"}}`) and with the status the official SDKs
/// map to their exception types (401 → `AuthenticationError`, 403 → `PermissionDeniedError`,
/// 404 → `NotFoundError`, 413/400 → `BadRequestError`, 429 → `RateLimitError`, 5xx →
/// `InternalServerError`). Every error thrown on the proxy's routes becomes one of these
/// exactly once, in ``GatewayObservationMiddleware``.
public struct GatewayError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    /// OpenAI's `error.type` values the proxy uses.
    public enum Kind: String, Sendable {
        case invalidRequest = "invalid_request_error"
        case authentication = "authentication_error"
        case permission = "permission_error"
        case notFound = "not_found_error"
        case rateLimit = "rate_limit_error"
        /// A project's or key's monthly budget would be exceeded (HTTP 429).
        case budgetExceeded = "budget_exceeded"
        case api = "api_error"
        case upstream = "upstream_error"
        case timeout = "timeout_error"
    }

    public var status: HTTPResponse.Status
    public var kind: Kind
    public var message: String
    public var param: String?
    public var code: String?
    /// Extra response headers (e.g. `retry-after`).
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status, _ kind: Kind, _ message: String, param: String? = nil, code: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.kind = kind
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers
    }

    public var description: String {
        "\(status.code) \(kind.rawValue)\(code.map { " (\($0))" } ?? ""): \(message)"
    }

    /// The JSON body, built by hand so `param` and `code` are always present (as `null`
    /// when unset), as in OpenAI's responses.
    public var body: String {
        """
        {"error":{"message":\(Self.quoted(message)),"type":\(Self.quoted(kind.rawValue)),\
        "param":\(param.map(Self.quoted) ?? "null"),"code":\(code.map(Self.quoted) ?? "null")}}
        """
    }

    /// The same error in Anthropic's shape (`{"type":"error","error":{"type","message"}}`),
    /// for clients of `/v1/messages`; the type follows the status as Anthropic's does.
    public var anthropicBody: String {
        #"{"type":"error","error":{"type":\#(Self.quoted(anthropicType)),"message":\#(Self.quoted(message))}}"#
    }

    var anthropicType: String { AnthropicErrorType.forStatus(Int(status.code)) }

    /// Which API's error shape a client expects.
    enum Format: Sendable {
        case openAI
        case anthropic

        /// Anthropic's for `/v1/messages`, OpenAI's everywhere else.
        static func forPath(_ path: String) -> Format {
            path.hasPrefix("/v1/messages") ? .anthropic : .openAI
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response(format: .forPath(request.uri.path))
    }

    func response(format: Format = .openAI) -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        let text = format == .anthropic ? anthropicBody : body
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String { JSONString.quoted(text) }
}

extension GatewayError {
    /// Any error thrown while handling a request, as the proxy answers it. Internal errors
    /// keep their detail in the log, never in the response.
    static func from(_ error: any Error) -> GatewayError {
        switch error {
        case let error as GatewayError:
            return error
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                return GatewayError(.notFound, .notFound, "no such route; the proxy serves POST /v1/chat/completions, /v1/messages and /v1/embeddings, GET /v1/models, /healthz and /metrics", code: "unknown_url")
            case .contentTooLarge:
                return .bodyTooLarge(limit: nil)
            default:
                return GatewayError(error.status, error.status.code < 500 ? .invalidRequest : .api,
                                    error.body ?? error.status.reasonPhrase)
            }
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            return .bodyTooLarge(limit: nil)
        case is ClientDisconnected:
            // Never seen by the client; recorded in metrics and logs as nginx's 499.
            return GatewayError(HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"), .invalidRequest,
                                "the client closed the connection before the response was complete", code: "client_closed")
        case let error as StoreError where error.code == .unavailable:
            return .databaseUnavailable
        case let error where isConnectionFailure(error):
            return .databaseUnavailable
        default:
            return GatewayError(.internalServerError, .api,
                                "the proxy failed to handle the request; the server log has the detail under this request's x-llmlab-request-id",
                                code: "internal_error")
        }
    }

    static let databaseUnavailable = GatewayError(
        .serviceUnavailable, .api, "the proxy cannot reach its database right now; retry shortly", code: "database_unavailable")

    /// A provider answer the proxy could not read as the provider documents it (502).
    static func invalidUpstreamResponse(_ provider: String, _ detail: String) -> GatewayError {
        GatewayError(.badGateway, .upstream, "the \(provider) response could not be read (\(detail)); retry, or report it if it persists",
                     code: "upstream_invalid_response")
    }

    static func bodyTooLarge(limit: Int?) -> GatewayError {
        let bound = limit.map { " of \($0) bytes" } ?? ""
        return GatewayError(.contentTooLarge, .invalidRequest,
                            "the request body is larger than the proxy's limit\(bound); send a smaller request or raise --max-request-bytes",
                            code: "request_too_large")
    }
}
