/// One span as received over OTLP, before interpretation: ids as lowercase hex, times in
/// Unix nanoseconds, attributes of the span, its resource and its instrumentation scope.
/// The OTLP decoders (protobuf and JSON) produce these; ``SpanMapper`` turns them into
/// ``NormalizedSpan``s. Independent of the generated protobuf types so the mapping is
/// tested from plain fixtures.
public struct RawSpan: Sendable, Hashable {
    /// 32 lowercase hex digits.
    public var traceID: String
    /// 16 lowercase hex digits.
    public var spanID: String
    /// 16 lowercase hex digits; empty for a root span.
    public var parentSpanID: String
    public var name: String
    /// OTLP `SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    public var kind: Int
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    /// OTLP `Status.code`: 0 unset, 1 ok, 2 error.
    public var statusCode: Int
    public var statusMessage: String
    public var attributes: [String: AttributeValue]
    public var events: [RawSpanEvent]
    public var resourceAttributes: [String: AttributeValue]
    public var scopeName: String
    public var scopeVersion: String

    public init(traceID: String, spanID: String, parentSpanID: String = "", name: String, kind: Int = 1,
                startTimeUnixNano: UInt64, endTimeUnixNano: UInt64, statusCode: Int = 0, statusMessage: String = "",
                attributes: [String: AttributeValue] = [:], events: [RawSpanEvent] = [],
                resourceAttributes: [String: AttributeValue] = [:], scopeName: String = "", scopeVersion: String = "") {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.attributes = attributes
        self.events = events
        self.resourceAttributes = resourceAttributes
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion
    }
}

/// A span event (e.g. `exception` with `exception.type`, `exception.message`, `exception.stacktrace`).
public struct RawSpanEvent: Sendable, Hashable {
    public var name: String
    public var timeUnixNano: UInt64
    public var attributes: [String: AttributeValue]

    public init(name: String, timeUnixNano: UInt64, attributes: [String: AttributeValue] = [:]) {
        self.name = name
        self.timeUnixNano = timeUnixNano
        self.attributes = attributes
    }
}

/// An OTLP `AnyValue`.
public indirect enum AttributeValue: Sendable, Hashable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([AttributeValue])
    case map([String: AttributeValue])

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer, also from a string of digits or a whole double (exporters differ).
    public var intValue: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value) where value.rounded() == value && abs(value) < 9e15: Int64(value)
        case .string(let text): Int64(text)
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .int(let value): Double(value)
        case .string(let text): Double(text)
        default: nil
        }
    }

    public var boolValue: Bool? {
        switch self {
        case .bool(let value): value
        case .string(let text): text == "true" ? true : (text == "false" ? false : nil)
        default: nil
        }
    }
}
