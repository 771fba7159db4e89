import LLMLabProto
import SwiftProtobuf

/// Decodes OTLP/HTTP trace export bodies (`POST /v1/traces`) into ``RawSpan``s.
///
/// - `application/x-protobuf` (and `application/protobuf`): binary protobuf
///   `ExportTraceServiceRequest`, decoded by the generated SwiftProtobuf types.
/// - `application/json`: OTLP/JSON. Hex trace/span ids are rewritten to base64 first
///   (``OTLPJSONIDs``), then SwiftProtobuf's proto3 JSON decoder reads the body with unknown
///   fields ignored; enums as integers and 64-bit integers as strings or numbers are proto3 JSON.
/// - `Content-Encoding: gzip` (also `x-gzip`, `deflate`) is inflated with zlib first; the
///   decoded body may not exceed `maxBodyBytes` (checked while inflating).
///
/// Spans with invalid ids are rejected and counted (see ``OTLPBatch``); the request itself
/// only fails for an unsupported media type or encoding, an oversized body, or a body that
/// does not decode.
public enum OTLPDecoder {
    /// 20 MiB, the OpenTelemetry Collector's default request body limit.
    public static let defaultMaxBodyBytes = 20 * 1024 * 1024

    public static func decode(
        _ body: [UInt8],
        contentType: String,
        contentEncoding: String?,
        maxBodyBytes: Int = defaultMaxBodyBytes
    ) throws(OTLPDecodingError) -> OTLPBatch {
        guard let format = OTLPFormat(contentType: contentType) else {
            throw .unsupportedContentType(contentType)
        }
        let decoded = try decompress(body, contentEncoding: contentEncoding, maxBodyBytes: maxBodyBytes)
        let request = try exportRequest(decoded, format: format)
        return batch(from: request, format: format)
    }

    /// The body with its `Content-Encoding` removed.
    static func decompress(_ body: [UInt8], contentEncoding: String?, maxBodyBytes: Int) throws(OTLPDecodingError) -> [UInt8] {
        let encoding = (contentEncoding ?? "").trimmingASCIIWhitespace().lowercased()
        switch encoding {
        case "", "identity":
            guard body.count <= maxBodyBytes else { throw .bodyTooLarge(limit: maxBodyBytes) }
            return body
        case "gzip", "x-gzip", "deflate":
            do {
                return try Zlib.inflate(body, limit: maxBodyBytes)
            } catch {
                switch error {
                case .tooLarge: throw .bodyTooLarge(limit: maxBodyBytes)
                case .corrupt(let detail): throw .corruptCompression("\(encoding): \(detail)")
                }
            }
        default:
            throw .unsupportedContentEncoding(contentEncoding ?? "")
        }
    }

    static func exportRequest(_ body: [UInt8], format: OTLPFormat) throws(OTLPDecodingError) -> OTLPExportRequest {
        switch format {
        case .protobuf:
            do {
                return try OTLPExportRequest(serializedBytes: body)
            } catch {
                throw .invalidProtobuf(String(describing: error))
            }
        case .json:
            var options = JSONDecodingOptions()
            options.ignoreUnknownFields = true
            do {
                return try OTLPExportRequest(jsonUTF8Bytes: OTLPJSONIDs.rewriteHexIDs(body), options: options)
            } catch {
                throw .invalidJSON(String(describing: error))
            }
        }
    }
}
