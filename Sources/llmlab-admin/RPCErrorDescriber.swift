import GRPCCore

/// Turns an `RPCError` into one line a person can act on. The server's messages already
/// say what was wrong (and name the field for invalid arguments); this adds the kind of
/// failure in words and, for transport failures, what to check.
struct RPCErrorDescriber {
    /// `host:port` the console dialled, for connection messages.
    var address: String
    /// Whether the connection used TLS, and with which trust roots, for handshake hints.
    var transportSummary: String
    /// Whether the connection was plaintext (`--insecure`).
    var plaintext: Bool
    /// The call timeout, named when a call runs out of time.
    var timeoutSeconds: Int
    /// Whether the call carried a credential; only then does "log in again" help.
    var sentCredential = true

    func describe(_ error: RPCError) -> String {
        if Environment.value("LLMLAB_ADMIN_DEBUG") != nil {
            Terminal.note("debug: \(String(reflecting: error))")
        }
        // An error that carries a local cause was raised by the client's transport, not
        // sent by the server (errors decoded from the wire never have a cause).
        if let cause = error.cause, error.code == .unavailable {
            return describeTransportFailure(error, cause: cause)
        }
        if error.code == .unavailable, error.message.contains("before completing the HTTP/2 connection preface") {
            return describeClosedDuringSetup()
        }
        let detail = error.message.trimmingWhitespace()
        func phrase(_ words: String, hint: String? = nil) -> String {
            var text = detail.isEmpty ? words : "\(words): \(detail)"
            if let hint { text += " (\(hint))" }
            return text
        }
        switch error.code {
        case .invalidArgument: return phrase("invalid argument")
        case .unauthenticated:
            return sentCredential
                ? phrase("not authenticated", hint: "log in with `llmlab-admin login`, or pass --token / set LLMLAB_TOKEN")
                : phrase("not authenticated")
        case .permissionDenied: return phrase("permission denied")
        case .notFound: return phrase("not found")
        case .alreadyExists: return phrase("already exists")
        case .failedPrecondition: return phrase("not possible right now")
        case .resourceExhausted: return phrase("limit reached")
        case .outOfRange: return phrase("out of range")
        case .aborted: return phrase("aborted, try again")
        case .unavailable: return phrase("server unavailable, try again shortly")
        case .deadlineExceeded:
            return "timed out after \(timeoutSeconds)s waiting for \(address) to answer"
        case .unimplemented: return phrase("not supported by this server (is it older than this console?)")
        case .cancelled: return phrase("cancelled")
        case .dataLoss: return phrase("data loss")
        case .internalError, .unknown: return phrase("server error")
        default: return phrase(String(describing: error.code))
        }
    }

    private func describeTransportFailure(_ error: RPCError, cause: any Error) -> String {
        let causeText = Self.flatten(cause).lowercased()
        let caHint = "point --ca-file (or LLMLAB_CA_FILE) at the CA that signed the server's certificate, e.g. $LLMLAB_HOME/tls/ca.pem"
        if causeText.contains("wrong_version_number") || causeText.contains("http_request") {
            return "TLS handshake with \(address) failed: the server does not speak TLS there; "
                + "if it was started with --insecure, pass --insecure too"
        }
        if causeText.contains("failedtovalidatehostname") {
            return "TLS handshake with \(address) failed: the server's certificate does not name \(hostForMessages); "
                + "dial a name or address the certificate lists (the development certificate lists localhost, 127.0.0.1 and ::1)"
        }
        if causeText.contains("certificate_verify_failed") || causeText.contains("certificate") {
            return "TLS handshake with \(address) failed: the server's certificate is not trusted (\(transportSummary)); \(caHint)"
        }
        if ["ssl", "tls", "handshake"].contains(where: causeText.contains) {
            return "TLS handshake with \(address) failed (\(transportSummary)); \(caHint), or pass --insecure if the server runs without TLS"
        }
        if error.message.lowercased().contains("resolve") || causeText.contains("couldn't resolve") {
            return "cannot connect to \(address): the name \(hostForMessages) does not resolve; check --address / LLMLAB_ADDRESS"
        }
        return "cannot connect to \(address): is llmlab-server running? (make run)"
    }

    /// Describes a failure the transport reports without a cause: the server accepted the
    /// TCP connection and then hung up, which is what a TLS server does to a plaintext
    /// client.
    private func describeClosedDuringSetup() -> String {
        if plaintext {
            return "\(address) closed the connection during setup: the server probably uses TLS, so drop --insecure"
        }
        return "\(address) closed the connection during setup: is it an llmlab-server gRPC port?"
    }

    private var hostForMessages: String {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<close])
        }
        return address.split(separator: ":").first.map(String.init) ?? address
    }

    /// The error and all its nested causes as one string, for classification only (never
    /// printed: it may be a debug dump).
    private static func flatten(_ error: any Error) -> String {
        var parts = [String(reflecting: error)]
        var current: (any Error)? = (error as? RPCError)?.cause ?? (error as? RuntimeError)?.cause
        var depth = 0
        while let next = current, depth < 8 {
            parts.append(String(reflecting: next))
            current = (next as? RPCError)?.cause ?? (next as? RuntimeError)?.cause
            depth += 1
        }
        return parts.joined(separator: " | ")
    }
}
