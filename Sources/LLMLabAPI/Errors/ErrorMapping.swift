import GRPCCore
import LLMLabCore
import LLMLabSecurity
import LLMLabStore
import Logging

/// Maps any error a handler lets escape to exactly one `RPCError`, in one place. Domain
/// errors keep their message; anything unexpected becomes `internalError` with the
/// request id, and its detail goes to the log only (never to the client).
enum ErrorMapping {
    static func rpcError(for error: any Error, requestID: String, logger: Logger) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as APIError:
            return RPCError(code: error.code, message: error.message)
        case let error as ValidationError:
            return RPCError(code: .invalidArgument, message: "invalid \(error.field): \(error.reason)")
        case let error as StoreError:
            switch error.code {
            case .notFound: return RPCError(code: .notFound, message: error.message)
            case .conflict: return RPCError(code: .alreadyExists, message: error.message)
            case .failedPrecondition: return RPCError(code: .failedPrecondition, message: error.message)
            case .invalidArgument: return RPCError(code: .invalidArgument, message: error.message)
            case .unavailable: return RPCError(code: .unavailable, message: "the database is unavailable; retry shortly")
            default: break
            }
        case let error as KeyVaultError:
            logger.error("key vault failure", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
            return RPCError(code: .internalError, message: "could not open the tenant's key material (request \(requestID)); the operator should check the master key")
        case let error as PasswordHashingError:
            logger.error("password hashing failure", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
        default:
            if isConnectionFailure(error) {
                return RPCError(code: .unavailable, message: "the database is unavailable; retry shortly")
            }
        }
        logger.error("unexpected error", metadata: [
            "request_id": "\(requestID)", "error": "\(String(reflecting: error))",
        ])
        return RPCError(code: .internalError, message: "internal error (request \(requestID)); the server log has the details")
    }
}
