#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import LLMLabProto
import SwiftProtobuf

typealias OTLPExportRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias OTLPSpan = Opentelemetry_Proto_Trace_V1_Span
typealias OTLPKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias OTLPAnyValue = Opentelemetry_Proto_Common_V1_AnyValue

extension OTLPDecoder {
    /// The spans of an already-decoded request (the gRPC `TraceService/Export` path; the
    /// HTTP path ends here too). Spans with an invalid trace id, span id or parent span id
    /// are rejected and counted; the rest are kept in request order.
    public static func batch(
        from request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest,
        format: OTLPFormat = .protobuf
    ) -> OTLPBatch {
        var spans: [RawSpan] = []
        var rejections = RejectionLog()
        for (resourceIndex, resourceSpans) in request.resourceSpans.enumerated() {
            let resourceAttributes = OTLPConversion.attributes(resourceSpans.resource.attributes)
            for (scopeIndex, scopeSpans) in resourceSpans.scopeSpans.enumerated() {
                let scope = scopeSpans.scope
                for (spanIndex, span) in scopeSpans.spans.enumerated() {
                    switch OTLPConversion.rawSpan(span, resourceAttributes: resourceAttributes,
                                                  scopeName: scope.name, scopeVersion: scope.version) {
                    case .success(let raw):
                        spans.append(raw)
                    case .failure(let rejection):
                        rejections.add(rejection.reason, at: "resource_spans[\(resourceIndex)].scope_spans[\(scopeIndex)].spans[\(spanIndex)]")
                    }
                }
            }
        }
        return OTLPBatch(format: format, spans: spans, rejectedSpans: rejections.total, rejections: rejections.entries)
    }
}

/// Counts rejected spans per distinct reason, keeping first-seen order.
struct RejectionLog {
    private(set) var total = 0
    private(set) var entries: [OTLPRejection] = []
    private var index: [String: Int] = [:]

    mutating func add(_ reason: String, at path: String) {
        total += 1
        if let position = index[reason] {
            entries[position].count += 1
        } else {
            index[reason] = entries.count
            entries.append(OTLPRejection(reason: reason, count: 1, firstAt: path))
        }
    }
}

struct SpanRejection: Error {
    var reason: String
}

/// Generated OTLP types → ``RawSpan`` / ``AttributeValue``, shared by both encodings.
enum OTLPConversion {
    static func rawSpan(_ span: OTLPSpan, resourceAttributes: [String: AttributeValue],
                        scopeName: String, scopeVersion: String) -> Result<RawSpan, SpanRejection> {
        let traceID = Array(span.traceID)
        let spanID = Array(span.spanID)
        var parentID = Array(span.parentSpanID)
        guard traceID.count == 16 else {
            return .failure(SpanRejection(reason: "invalid trace_id: must be 16 bytes (32 hex digits in OTLP/JSON)"))
        }
        guard traceID.contains(where: { $0 != 0 }) else {
            return .failure(SpanRejection(reason: "invalid trace_id: all zeroes"))
        }
        guard spanID.count == 8 else {
            return .failure(SpanRejection(reason: "invalid span_id: must be 8 bytes (16 hex digits in OTLP/JSON)"))
        }
        guard spanID.contains(where: { $0 != 0 }) else {
            return .failure(SpanRejection(reason: "invalid span_id: all zeroes"))
        }
        guard parentID.isEmpty || parentID.count == 8 else {
            return .failure(SpanRejection(reason: "invalid parent_span_id: must be empty or 8 bytes (16 hex digits in OTLP/JSON)"))
        }
        // An all-zero parent is the "invalid span id" of W3C trace context: a root span.
        if !parentID.contains(where: { $0 != 0 }) { parentID = [] }

        return .success(RawSpan(
            traceID: hex(traceID),
            spanID: hex(spanID),
            parentSpanID: hex(parentID),
            name: span.name,
            kind: span.kind.rawValue,
            startTimeUnixNano: span.startTimeUnixNano,
            endTimeUnixNano: span.endTimeUnixNano,
            statusCode: span.status.code.rawValue,
            statusMessage: span.status.message,
            attributes: attributes(span.attributes),
            events: span.events.map { event in
                RawSpanEvent(name: event.name, timeUnixNano: event.timeUnixNano, attributes: attributes(event.attributes))
            },
            resourceAttributes: resourceAttributes,
            scopeName: scopeName,
            scopeVersion: scopeVersion
        ))
    }

    /// Key/value pairs to a dictionary. A pair whose value is empty (no field of the
    /// `AnyValue` oneof set) is dropped; for a repeated key (not allowed by OTLP) the
    /// last one wins.
    static func attributes(_ pairs: [OTLPKeyValue]) -> [String: AttributeValue] {
        var result: [String: AttributeValue] = [:]
        result.reserveCapacity(pairs.count)
        for pair in pairs {
            if let value = attributeValue(pair.value) { result[pair.key] = value }
        }
        return result
    }

    /// `nil` for an empty `AnyValue`; empty elements of arrays are dropped the same way.
    static func attributeValue(_ value: OTLPAnyValue) -> AttributeValue? {
        switch value.value {
        case nil: nil
        case .stringValue(let text): .string(text)
        case .boolValue(let flag): .bool(flag)
        case .intValue(let number): .int(number)
        case .doubleValue(let number): .double(number)
        case .bytesValue(let data): .bytes(Array(data))
        case .arrayValue(let array): .array(array.values.compactMap(attributeValue))
        case .kvlistValue(let list): .map(attributes(list.values))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex.
    static func hex(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            digits.append(hexDigits[Int(byte >> 4)])
            digits.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
