/// The two OTLP/HTTP body encodings. The response to a request uses the request's encoding.
public enum OTLPFormat: String, Sendable, Hashable {
    /// `application/x-protobuf`: the binary protobuf encoding.
    case protobuf
    /// `application/json`: OTLP/JSON (proto3 JSON with hex trace/span ids and integer enums).
    case json

    /// The format named by a `Content-Type` header value; parameters (`; charset=utf-8`),
    /// case and surrounding whitespace are ignored. `application/protobuf` is accepted as
    /// an alias. `nil` for any other media type (the endpoint answers 415).
    public init?(contentType: String) {
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            .first.map { $0.trimmingASCIIWhitespace().lowercased() } ?? ""
        switch mediaType {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }

    /// The `Content-Type` to answer with.
    public var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }
}

/// Why an OTLP body could not be decoded at all. Spans that decode but are invalid are not
/// errors: they are counted in ``OTLPBatch/rejectedSpans``.
public enum OTLPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `Content-Type` is neither protobuf nor JSON (HTTP 415).
    case unsupportedContentType(String)
    /// The `Content-Encoding` is not `gzip`, `deflate` or `identity` (HTTP 415).
    case unsupportedContentEncoding(String)
    /// The body, after decompression, is larger than the limit in bytes (HTTP 413).
    case bodyTooLarge(limit: Int)
    /// The gzip/deflate stream is corrupt or truncated (HTTP 400).
    case corruptCompression(String)
    /// The body is not a protobuf `ExportTraceServiceRequest` (HTTP 400).
    case invalidProtobuf(String)
    /// The body is not an OTLP/JSON `ExportTraceServiceRequest` (HTTP 400).
    case invalidJSON(String)

    /// The HTTP status the OTLP/HTTP endpoint answers with.
    public var httpStatus: Int {
        switch self {
        case .unsupportedContentType, .unsupportedContentEncoding: 415
        case .bodyTooLarge: 413
        case .corruptCompression, .invalidProtobuf, .invalidJSON: 400
        }
    }

    public var description: String {
        switch self {
        case .unsupportedContentType(let value):
            "unsupported Content-Type '\(value)': OTLP/HTTP accepts application/x-protobuf or application/json"
        case .unsupportedContentEncoding(let value):
            "unsupported Content-Encoding '\(value)': OTLP/HTTP accepts gzip or no encoding"
        case .bodyTooLarge(let limit):
            "request body exceeds \(limit) bytes after decompression"
        case .corruptCompression(let detail):
            "corrupt compressed body: \(detail)"
        case .invalidProtobuf(let detail):
            "body is not a valid protobuf ExportTraceServiceRequest: \(detail)"
        case .invalidJSON(let detail):
            "body is not a valid OTLP/JSON ExportTraceServiceRequest: \(detail)"
        }
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> Substring {
        let whitespace: Set<Character> = [" ", "\t", "\r", "\n"]
        var text = Substring(self)
        while let first = text.first, whitespace.contains(first) { text.removeFirst() }
        while let last = text.last, whitespace.contains(last) { text.removeLast() }
        return text
    }
}
