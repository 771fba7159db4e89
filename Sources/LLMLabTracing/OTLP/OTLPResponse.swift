public import LLMLabProto
import SwiftProtobuf

/// The `ExportTraceServiceResponse` for an export, as a message (gRPC) or encoded in the
/// request's format (OTLP/HTTP). Full success is an empty message (`{}` in JSON); when spans
/// were rejected, `partial_success` carries their count and the reason, e.g.
/// `{"partialSuccess":{"rejectedSpans":"2","errorMessage":"…"}}` (proto3 JSON: int64 as a string).
public enum OTLPResponse {
    public typealias Message = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse

    /// `partial_success` is set when `rejectedSpans > 0`, or when `errorMessage` is not empty
    /// (a warning with nothing rejected, which the specification allows).
    public static func message(rejectedSpans: Int, errorMessage: String) -> Message {
        var response = Message()
        if rejectedSpans > 0 || !errorMessage.isEmpty {
            var partial = Opentelemetry_Proto_Collector_Trace_V1_ExportTracePartialSuccess()
            partial.rejectedSpans = Int64(rejectedSpans)
            partial.errorMessage = errorMessage
            response.partialSuccess = partial
        }
        return response
    }

    public static func message(for batch: OTLPBatch) -> Message {
        message(rejectedSpans: batch.rejectedSpans, errorMessage: batch.errorMessage)
    }

    /// The response body; answer with `format.contentType`.
    public static func encode(rejectedSpans: Int, errorMessage: String, as format: OTLPFormat) -> [UInt8] {
        let response = message(rejectedSpans: rejectedSpans, errorMessage: errorMessage)
        switch format {
        case .protobuf:
            // Cannot fail: no required fields, no `Any`.
            return (try? response.serializedBytes()) ?? []
        case .json:
            return (try? response.jsonUTF8Bytes()) ?? Array("{}".utf8)
        }
    }

    /// The response body for a decoded batch, in the batch's (the request's) format.
    public static func encode(for batch: OTLPBatch) -> [UInt8] {
        encode(rejectedSpans: batch.rejectedSpans, errorMessage: batch.errorMessage, as: batch.format)
    }
}
