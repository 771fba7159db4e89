import Synchronization

/// The proxy's Prometheus metrics, in memory and rendered on `GET /metrics` in the text
/// exposition format (version 0.0.4). Small on purpose: three families, one lock, no
/// dependency.
///
/// - `llmlab_proxy_requests_total{route,provider,model,status}` (counter)
/// - `llmlab_proxy_request_duration_seconds{route,provider}` (histogram; streams count
///   until their last byte)
/// - `llmlab_proxy_upstream_errors_total{provider,class}` (counter)
///
/// The model label comes from callers, so series are capped: past ``maximumSeries`` label
/// sets, new models are counted under `model="other"`.
public final class GatewayMetrics: Sendable {
    /// Histogram bounds in seconds: from cached hits to long reasoning calls.
    static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
    static let maximumSeries = 2000

    private struct RequestKey: Hashable, Comparable {
        var route, provider, model: String
        var status: Int
        static func < (a: Self, b: Self) -> Bool {
            (a.route, a.provider, a.model, a.status) < (b.route, b.provider, b.model, b.status)
        }
    }

    private struct DurationKey: Hashable, Comparable {
        var route, provider: String
        static func < (a: Self, b: Self) -> Bool { (a.route, a.provider) < (b.route, b.provider) }
    }

    private struct ErrorKey: Hashable, Comparable {
        var provider, errorClass: String
        static func < (a: Self, b: Self) -> Bool { (a.provider, a.errorClass) < (b.provider, b.errorClass) }
    }

    private struct Histogram {
        var counts = [UInt64](repeating: 0, count: GatewayMetrics.durationBuckets.count)
        var sum: Double = 0
        var count: UInt64 = 0

        mutating func observe(_ seconds: Double) {
            if let bucket = GatewayMetrics.durationBuckets.firstIndex(where: { seconds <= $0 }) {
                counts[bucket] += 1
            }
            sum += seconds
            count += 1
        }
    }

    private struct State {
        var requests: [RequestKey: UInt64] = [:]
        var durations: [DurationKey: Histogram] = [:]
        var upstreamErrors: [ErrorKey: UInt64] = [:]
        var cost: [CostKey: Double] = [:]
        var usageGauges: (@Sendable () -> (queueDepth: Int, spoolBytes: Int64))?
        var extraSamples: [@Sendable () -> [MetricSample]] = []
    }

    private struct CostKey: Hashable, Comparable {
        var provider, model: String
        static func < (a: Self, b: Self) -> Bool { (a.provider, a.model) < (b.provider, b.model) }
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts one finished request and observes its duration.
    public func recordRequest(route: String, provider: String, model: String, status: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { state in
            var key = RequestKey(route: route, provider: provider, model: model, status: status)
            if state.requests[key] == nil, state.requests.count >= Self.maximumSeries {
                key.model = "other"
            }
            state.requests[key, default: 0] += 1
            state.durations[DurationKey(route: route, provider: provider), default: Histogram()].observe(seconds)
        }
    }

    /// Counts one failed upstream call.
    func recordUpstreamError(provider: String, _ errorClass: UpstreamErrorClass) {
        state.withLock { $0.upstreamErrors[ErrorKey(provider: provider, errorClass: errorClass.rawValue), default: 0] += 1 }
    }

    /// Adds a priced request's cost. A float here only: the exact cost is stored with the
    /// usage event; this counter is for dashboards.
    func recordCost(provider: String, model: String, usd: Double) {
        state.withLock { state in
            var key = CostKey(provider: provider, model: model)
            if state.cost[key] == nil, state.cost.count >= Self.maximumSeries { key.model = "other" }
            state.cost[key, default: 0] += usd
        }
    }

    /// Where `llmlab_usage_queue_depth` and `llmlab_usage_spool_bytes` are read at scrape time.
    /// Adds series another part of the server owns (e.g. trace ingest), sampled at render.
    public func attachSamples(_ source: @escaping @Sendable () -> [MetricSample]) {
        state.withLock { $0.extraSamples.append(source) }
    }

    func attachUsageGauges(_ source: @escaping @Sendable () -> (queueDepth: Int, spoolBytes: Int64)) {
        state.withLock { $0.usageGauges = source }
    }

    /// The text exposition format, series sorted so output is stable.
    public func render() -> String {
        let snapshot = state.withLock { $0 }
        var out = ""
        out += "# HELP llmlab_proxy_requests_total Proxy requests by route, provider, model and HTTP status.\n"
        out += "# TYPE llmlab_proxy_requests_total counter\n"
        for (key, value) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            out += "llmlab_proxy_requests_total\(Self.labels(["route": key.route, "provider": key.provider, "model": key.model, "status": String(key.status)])) \(value)\n"
        }
        out += "# HELP llmlab_proxy_request_duration_seconds Time from request to last response byte.\n"
        out += "# TYPE llmlab_proxy_request_duration_seconds histogram\n"
        for (key, histogram) in snapshot.durations.sorted(by: { $0.key < $1.key }) {
            var cumulative: UInt64 = 0
            for (index, bound) in Self.durationBuckets.enumerated() {
                cumulative += histogram.counts[index]
                out += "llmlab_proxy_request_duration_seconds_bucket\(Self.labels(["route": key.route, "provider": key.provider, "le": Self.number(bound)])) \(cumulative)\n"
            }
            out += "llmlab_proxy_request_duration_seconds_bucket\(Self.labels(["route": key.route, "provider": key.provider, "le": "+Inf"])) \(histogram.count)\n"
            out += "llmlab_proxy_request_duration_seconds_sum\(Self.labels(["route": key.route, "provider": key.provider])) \(Self.number(histogram.sum))\n"
            out += "llmlab_proxy_request_duration_seconds_count\(Self.labels(["route": key.route, "provider": key.provider])) \(histogram.count)\n"
        }
        out += "# HELP llmlab_proxy_upstream_errors_total Failed upstream calls by provider and error class.\n"
        out += "# TYPE llmlab_proxy_upstream_errors_total counter\n"
        for (key, value) in snapshot.upstreamErrors.sorted(by: { $0.key < $1.key }) {
            out += "llmlab_proxy_upstream_errors_total\(Self.labels(["provider": key.provider, "class": key.errorClass])) \(value)\n"
        }
        out += "# HELP llmlab_proxy_cost_usd_total Cost of priced proxy requests in USD (approximate; exact costs are in usage events).\n"
        out += "# TYPE llmlab_proxy_cost_usd_total counter\n"
        for (key, value) in snapshot.cost.sorted(by: { $0.key < $1.key }) {
            out += "llmlab_proxy_cost_usd_total\(Self.labels(["provider": key.provider, "model": key.model])) \(String(value))\n"
        }
        if let gauges = snapshot.usageGauges?() {
            out += "# HELP llmlab_usage_queue_depth Usage events waiting in memory to be written.\n"
            out += "# TYPE llmlab_usage_queue_depth gauge\n"
            out += "llmlab_usage_queue_depth \(gauges.queueDepth)\n"
            out += "# HELP llmlab_usage_spool_bytes Bytes of usage events spooled to disk awaiting replay.\n"
            out += "# TYPE llmlab_usage_spool_bytes gauge\n"
            out += "llmlab_usage_spool_bytes \(gauges.spoolBytes)\n"
        }
        for sample in snapshot.extraSamples.flatMap({ $0() }) {
            out += "# HELP \(sample.name) \(sample.help)\n"
            out += "# TYPE \(sample.name) \(sample.type.rawValue)\n"
            out += "\(sample.name) \(sample.value)\n"
        }
        return out
    }

    /// `{a="…",b="…"}` in a fixed order (the order Prometheus documents: as given).
    private static func labels(_ pairs: KeyValuePairs<String, String>) -> String {
        "{" + pairs.map { "\($0.key)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
    }

    private static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// One unlabelled series contributed through ``GatewayMetrics/attachSamples(_:)``.
public struct MetricSample: Sendable {
    public enum Kind: String, Sendable { case gauge, counter }
    public var name: String
    public var help: String
    public var type: Kind
    public var value: Int64

    public init(name: String, help: String, type: Kind, value: Int64) {
        self.name = name
        self.help = help
        self.type = type
        self.value = value
    }
}
