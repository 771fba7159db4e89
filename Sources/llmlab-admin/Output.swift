import SwiftProtobuf

/// Where a command's result goes: aligned tables and key/value blocks for people, or the
/// protobuf messages as JSON (one object or array per command) for scripts. Only the
/// result goes to stdout; notes and prompts go to stderr.
struct Output {
    /// `--json`: print protobuf JSON instead of tables.
    var json: Bool

    /// Prints one message as a JSON object.
    func printJSON<M: SwiftProtobuf.Message>(_ message: M) throws {
        print(try message.jsonString(options: Self.jsonOptions))
    }

    /// Prints messages as one JSON array.
    func printJSON<M: SwiftProtobuf.Message>(_ messages: [M]) throws {
        print(try M.jsonString(from: messages, options: Self.jsonOptions))
    }

    /// Prints `message` as JSON when `--json` was given, otherwise runs `human`.
    func emit<M: SwiftProtobuf.Message>(_ message: M, human: () -> Void) throws {
        if json { try printJSON(message) } else { human() }
    }

    /// Prints a list as a JSON array or as a table (or `emptyText` when there are no rows).
    func emitList<M: SwiftProtobuf.Message>(
        _ items: [M], emptyText: String, table: ([M]) -> Table
    ) throws {
        if json { try printJSON(items); return }
        if items.isEmpty { print(emptyText); return }
        print(table(items).rendered(), terminator: "")
    }

    /// Standard proto3 JSON (lowerCamelCase names, int64 as strings, enums by name), with
    /// a stable field order so output can be diffed.
    private static var jsonOptions: JSONEncodingOptions {
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }
}

/// Columns aligned under a header, separated by two spaces; the last column is not padded
/// so long values (targets, reasons) do not push trailing spaces.
struct Table {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells) }

    func rendered() -> String {
        let columnCount = headers.count
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.prefix(columnCount).enumerated() {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for index in 0..<columnCount {
                let cell = index < cells.count ? cells[index] : ""
                let isLast = index == columnCount - 1
                parts.append(isLast ? cell : cell.padding(to: widths[index]))
            }
            return parts.joined(separator: "  ").trailingSpacesRemoved() + "\n"
        }
        return ([line(headers)] + rows.map(line)).joined()
    }
}

/// A block of `label: value` lines with the values aligned, for one object (a project,
/// the caller's identity).
struct Details {
    private var pairs: [(String, String)] = []

    init() {}

    mutating func add(_ label: String, _ value: String) { pairs.append((label, value)) }

    func rendered() -> String {
        let width = pairs.map { $0.0.count + 1 }.max() ?? 0
        return pairs.map { "\(($0.0 + ":").padding(to: width))  \($0.1)\n" }.joined()
    }

    func print() { Swift.print(rendered(), terminator: "") }
}

extension String {
    /// Right-pads with spaces to `width` characters.
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func trailingSpacesRemoved() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
