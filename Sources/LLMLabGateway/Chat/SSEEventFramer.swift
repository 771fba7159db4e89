/// Cuts an upstream `text/event-stream` into whole events (each up to and including the
/// blank line that ends it), so the proxy can look at one event at a time while passing
/// every byte it keeps through unchanged. Bytes arrive in arbitrary pieces; an event split
/// across pieces is held until its end arrives.
struct SSEEventFramer {
    /// An event that never ends within this many bytes is a broken stream.
    let maximumEventBytes: Int
    private var pending: [UInt8] = []
    /// Start of the current line within `pending`.
    private var lineStart = 0
    /// Where the search for the next newline resumes.
    private var scanned = 0

    init(maximumEventBytes: Int = 8 * 1024 * 1024) {
        self.maximumEventBytes = maximumEventBytes
    }

    struct EventTooLarge: Error, CustomStringConvertible {
        var limit: Int
        var description: String { "an upstream stream event exceeded \(limit) bytes without ending" }
    }

    /// Appends `bytes` and returns the events they complete.
    mutating func append(_ bytes: some Collection<UInt8>) throws(EventTooLarge) -> [ArraySlice<UInt8>] {
        pending.append(contentsOf: bytes)
        var events: [ArraySlice<UInt8>] = []
        var eventStart = 0
        var index = scanned
        while index < pending.count {
            if pending[index] == UInt8(ascii: "\n") {
                var lineEnd = index
                if lineEnd > lineStart, pending[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                if lineEnd == lineStart {
                    events.append(pending[eventStart...index])
                    eventStart = index + 1
                }
                lineStart = index + 1
            }
            index += 1
        }
        if eventStart > 0 {
            // The returned slices keep their bytes: `pending` copies on write.
            pending.removeFirst(eventStart)
            lineStart -= eventStart
        }
        scanned = pending.count
        guard pending.count <= maximumEventBytes else { throw EventTooLarge(limit: maximumEventBytes) }
        return events
    }

    /// Whatever is left when the stream ends (an event without its blank line), if anything.
    mutating func finish() -> [UInt8]? {
        defer {
            pending = []
            lineStart = 0
            scanned = 0
        }
        return pending.isEmpty ? nil : pending
    }

    /// The event's data: its `data:` lines joined with newlines (one leading space removed
    /// from each), or `nil` for an event without data (comments, keep-alives).
    static func data(of event: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var result: [UInt8]?
        var lineStart = event.startIndex
        var index = event.startIndex
        while index <= event.endIndex {
            if index == event.endIndex || event[index] == UInt8(ascii: "\n") {
                var line = event[lineStart..<index]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if line.starts(with: "data:".utf8) {
                    var value = line.dropFirst(5)
                    if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                    if result == nil {
                        result = Array(value)
                    } else {
                        result!.append(UInt8(ascii: "\n"))
                        result!.append(contentsOf: value)
                    }
                }
                lineStart = index + 1
            }
            index += 1
        }
        return result.map { ArraySlice($0) }
    }
}
