public import GRPCCore

/// An error a handler raises deliberately, already phrased for the caller: the gRPC
/// code plus a message that says what was wrong and what to do.
public struct APIError: Error, Sendable, CustomStringConvertible, RPCErrorConvertible {
    public var code: RPCError.Code
    public var message: String

    public init(_ code: RPCError.Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var rpcErrorCode: RPCError.Code { code }
    public var rpcErrorMessage: String { message }
    public var description: String { "\(code): \(message)" }

    /// Unknown ids and other tenants' ids look the same: existence is not revealed.
    static func notFound(_ what: String, _ id: String) -> APIError {
        APIError(.notFound, "\(what) \(id) does not exist")
    }
}
