/// The result of decoding one OTLP export: the spans kept and the spans rejected.
public struct OTLPBatch: Sendable, Hashable {
    /// The request's encoding; the response uses the same.
    public var format: OTLPFormat
    /// Valid spans, in request order.
    public var spans: [RawSpan]
    /// How many spans were rejected (invalid trace or span id).
    public var rejectedSpans: Int
    /// The distinct reasons, in the order first seen.
    public var rejections: [OTLPRejection]

    public init(format: OTLPFormat, spans: [RawSpan], rejectedSpans: Int = 0, rejections: [OTLPRejection] = []) {
        self.format = format
        self.spans = spans
        self.rejectedSpans = rejectedSpans
        self.rejections = rejections
    }

    /// The `partial_success.error_message` for the response: empty when nothing was rejected,
    /// otherwise e.g. `rejected 2 of 5 spans: invalid span_id: all zeroes (2 spans, first at
    /// resource_spans[0].scope_spans[0].spans[1])`.
    public var errorMessage: String {
        guard rejectedSpans > 0 else { return "" }
        let total = spans.count + rejectedSpans
        let reasons = rejections.prefix(5).map { rejection in
            "\(rejection.reason) (\(rejection.count) span\(rejection.count == 1 ? "" : "s"), first at \(rejection.firstAt))"
        }
        let more = rejections.count > 5 ? "; …" : ""
        return "rejected \(rejectedSpans) of \(total) span\(total == 1 ? "" : "s"): " + reasons.joined(separator: "; ") + more
    }
}

/// One reason spans were rejected, with how many and where the first one was.
public struct OTLPRejection: Sendable, Hashable {
    public var reason: String
    public var count: Int
    /// Path of the first rejected span, e.g. `resource_spans[0].scope_spans[1].spans[3]`.
    public var firstAt: String

    public init(reason: String, count: Int, firstAt: String) {
        self.reason = reason
        self.count = count
        self.firstAt = firstAt
    }
}
