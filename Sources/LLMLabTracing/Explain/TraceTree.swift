/// The spans of one trace arranged as a tree, in tree order: every parent before its
/// children, siblings by start time (then span id, so the order is total). A span whose
/// parent is not among the spans (not received yet, or sampled away) is shown as a root;
/// a duplicate span id keeps its first occurrence; a parent cycle is broken where it is
/// found. Pure: no I/O.
public struct TraceTree: Sendable {
    public struct Node: Sendable, Hashable {
        public var span: NormalizedSpan
        /// 0 for roots.
        public var depth: Int
        /// Index into ``TraceTree/nodes`` of the parent, `nil` for roots.
        public var parent: Int?
        /// Indices into ``TraceTree/nodes``, in start order.
        public var children: [Int]
    }

    /// Tree order.
    public let nodes: [Node]
    /// Indices of the roots, in start order.
    public let roots: [Int]
    /// The earliest start and the latest end over all spans (0 when empty).
    public let startNanos: UInt64
    public let endNanos: UInt64
    private let indexByID: [String: Int]

    public init(_ spans: [NormalizedSpan]) {
        var unique: [NormalizedSpan] = []
        var seen = Set<String>()
        for span in spans where seen.insert(span.spanID).inserted { unique.append(span) }

        func precedes(_ a: NormalizedSpan, _ b: NormalizedSpan) -> Bool {
            (a.startTimeUnixNano, a.spanID) < (b.startTimeUnixNano, b.spanID)
        }
        let ids = Set(unique.map(\.spanID))
        var childrenByParent: [String: [NormalizedSpan]] = [:]
        var rootSpans: [NormalizedSpan] = []
        for span in unique {
            if !span.parentSpanID.isEmpty, span.parentSpanID != span.spanID, ids.contains(span.parentSpanID) {
                childrenByParent[span.parentSpanID, default: []].append(span)
            } else {
                rootSpans.append(span)
            }
        }
        for key in childrenByParent.keys { childrenByParent[key]?.sort(by: precedes) }
        rootSpans.sort(by: precedes)

        var nodes: [Node] = []
        var placed = Set<String>()
        var roots: [Int] = []
        // Iterative depth-first walk (pre-order), so deep traces cannot overflow the stack.
        func walk(from root: NormalizedSpan) {
            var stack: [(NormalizedSpan, Int, Int?)] = [(root, 0, nil)]
            while let (span, depth, parent) = stack.popLast() {
                guard placed.insert(span.spanID).inserted else { continue }
                let index = nodes.count
                nodes.append(Node(span: span, depth: depth, parent: parent, children: []))
                if let parent { nodes[parent].children.append(index) } else { roots.append(index) }
                for child in (childrenByParent[span.spanID] ?? []).reversed() where !placed.contains(child.spanID) {
                    stack.append((child, depth + 1, index))
                }
            }
        }
        for root in rootSpans { walk(from: root) }
        // Spans only reachable through a parent cycle: break the cycle at the earliest.
        while placed.count < unique.count {
            guard let next = unique.filter({ !placed.contains($0.spanID) }).min(by: precedes) else { break }
            walk(from: next)
        }

        self.nodes = nodes
        self.roots = roots
        self.startNanos = unique.map(\.startTimeUnixNano).min() ?? 0
        self.endNanos = max(unique.map(\.endTimeUnixNano).max() ?? 0, startNanos)
        var indexByID: [String: Int] = [:]
        for (index, node) in nodes.enumerated() { indexByID[node.span.spanID] = index }
        self.indexByID = indexByID
    }

    public var spans: [NormalizedSpan] { nodes.map(\.span) }

    public var isEmpty: Bool { nodes.isEmpty }

    public var durationNanos: UInt64 { endNanos - startNanos }

    public func index(of spanID: String) -> Int? { indexByID[spanID] }

    /// Nanoseconds from the trace's first start to `span`'s start.
    public func offsetNanos(of span: NormalizedSpan) -> UInt64 {
        span.startTimeUnixNano >= startNanos ? span.startTimeUnixNano - startNanos : 0
    }

    /// Indices of the ancestors of `index`, parent first, up to its root.
    public func ancestors(of index: Int) -> [Int] {
        var result: [Int] = []
        var current = nodes[index].parent
        while let parent = current {
            result.append(parent)
            current = nodes[parent].parent
        }
        return result
    }

    /// Indices of `index` and everything below it (tree order keeps a subtree contiguous).
    public func subtree(of index: Int) -> Range<Int> {
        let depth = nodes[index].depth
        var end = index + 1
        while end < nodes.count, nodes[end].depth > depth { end += 1 }
        return index..<end
    }
}

extension SpanErrorFlags {
    /// Stable lowercase names, as the API reports them.
    public var names: [String] {
        var names: [String] = []
        if contains(.apiError) { names.append("api_error") }
        if contains(.tokenLimit) { names.append("token_limit") }
        if contains(.toolError) { names.append("tool_error") }
        if contains(.timeout) { names.append("timeout") }
        if contains(.exception) { names.append("exception") }
        return names
    }
}
