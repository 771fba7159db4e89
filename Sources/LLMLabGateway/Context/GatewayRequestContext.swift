public import Hummingbird
import Foundation
import Logging
import NIOCore

/// Per-request state of the proxy, carried from middleware to handlers: who is calling
/// (``VirtualKey``, set by ``VirtualKeyMiddleware``), the request id every response and
/// log line carries, what the handler learned for metrics (``RequestObservation``) and the
/// client connection (so a disconnect cancels the upstream call).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated virtual key; `nil` on unauthenticated routes (`/healthz`, `/metrics`).
    public var virtualKey: VirtualKey?
    /// Returned as `x-llmlab-request-id` and logged with every line about this request.
    public let requestID: String
    /// Filled in by handlers (provider, model), read by the metrics middleware.
    public let observation: RequestObservation
    /// The client's connection, set by ``GatewayObservationMiddleware``.
    var clientConnection: ClientConnection?
    let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.requestID = RequestIDs.make()
        self.observation = RequestObservation()
        self.logger[metadataKey: "request_id"] = .string(requestID)
    }
}

/// Request ids: `req_` and 32 lowercase hex digits of a random UUID.
enum RequestIDs {
    private static let digits = Array("0123456789abcdef".utf8)

    static func make() -> String {
        let id = UUID().uuid
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for byte in "req_".utf8 {
                buffer[index] = byte
                index += 1
            }
            withUnsafeBytes(of: id) { raw in
                for byte in raw {
                    buffer[index] = digits[Int(byte >> 4)]
                    buffer[index + 1] = digits[Int(byte & 0x0f)]
                    index += 2
                }
            }
            return index
        }
    }
}
