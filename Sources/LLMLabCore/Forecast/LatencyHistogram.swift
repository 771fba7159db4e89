/// Latency percentiles from a fixed bucket histogram, the only latency data the hourly
/// rollup keeps (a rollup cannot keep raw samples and stay small).
///
/// Approximation: the bucket holding the requested rank (nearest rank, ⌈p × n⌉) is found
/// and the value interpolated linearly inside it, as if its requests were spread evenly
/// over [lower, upper). The error is at most the bucket's width. A rank in the open last
/// bucket reports that bucket's lower bound.
public struct LatencyHistogram: Sendable, Hashable {
    /// Upper bounds (ms) of all buckets but the last, which is unbounded.
    public var upperBoundsMs: [Int64]
    /// One count per bucket: `upperBoundsMs.count + 1` entries.
    public var counts: [Int64]

    public init(upperBoundsMs: [Int64], counts: [Int64]) {
        precondition(counts.count == upperBoundsMs.count + 1, "a histogram needs one count per bound plus the open bucket")
        self.upperBoundsMs = upperBoundsMs
        self.counts = counts
    }

    public var total: Int64 { counts.reduce(0, +) }

    /// The approximate `percent`th percentile (1…100) in ms; 0 for an empty histogram.
    public func percentile(_ percent: Int) -> Int64 {
        let total = self.total
        guard total > 0 else { return 0 }
        let rank = max(1, (total * Int64(percent) + 99) / 100)
        var before: Int64 = 0
        for (index, count) in counts.enumerated() {
            guard count > 0, before + count >= rank else {
                before += count
                continue
            }
            let lower = index == 0 ? 0 : upperBoundsMs[index - 1]
            guard index < upperBoundsMs.count else { return lower }
            let upper = upperBoundsMs[index]
            let within = rank - before
            return lower + ((upper - lower) * within + count / 2) / count
        }
        return upperBoundsMs.last ?? 0
    }
}
