import LLMLabCore
import Foundation

/// Compact JSON text for span attributes, events and content, with a size cap so one span
/// cannot bloat a row: every string is cut to ``maxStringBytes`` (with a marker saying how
/// long it was), and a document over ``maxDocumentBytes`` (64 KiB) loses its largest
/// values first (objects: the value is replaced by a marker string) or its trailing items
/// (arrays: a final `{"name":"llmlab.truncated","dropped":N}` item says how many).
/// Object keys are sorted so equal spans produce equal text.
enum SpanJSONWriter {
    static let maxDocumentBytes = 64 * 1024
    static let maxStringBytes = 16 * 1024

    // MARK: Values

    static func encode(_ value: AttributeValue) -> String {
        switch value {
        case .string(let text): quoted(truncated(text))
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): number.isFinite ? "\(number)" : quoted("\(number)")
        case .bytes(let bytes): quoted(truncated(Data(bytes).base64EncodedString()))
        case .array(let items): "[" + items.map(encode).joined(separator: ",") + "]"
        case .map(let entries):
            "{" + entries.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + encode($0.value) }.joined(separator: ",") + "}"
        }
    }

    /// Like ``encode(_:)``, but a string holding a JSON object or array (as GenAI message
    /// attributes usually do) is embedded as JSON rather than as a string, when it fits.
    static func encodeEmbeddingJSON(_ value: AttributeValue) -> String {
        if case .string(let text) = value, text.utf8.count <= maxStringBytes, let first = text.first(where: { !$0.isWhitespace }),
           first == "{" || first == "[",
           (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil {
            return minified(text)
        }
        return encode(value)
    }

    // MARK: Documents

    /// `{"key":value,…}` from already-encoded values, capped at ``maxDocumentBytes``.
    static func object(_ encodedEntries: [String: String]) -> String {
        var entries = encodedEntries.map { (key: $0.key, value: $0.value) }
        func size() -> Int { entries.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 4 } }
        var total = size()
        if total > maxDocumentBytes {
            for index in entries.indices.sorted(by: { entries[$0].value.utf8.count > entries[$1].value.utf8.count }) {
                guard total > maxDocumentBytes else { break }
                let original = entries[index].value.utf8.count
                entries[index].value = quoted("[dropped: \(original) bytes, over the 64 KiB limit]")
                total = size()
            }
        }
        return "{" + entries.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
    }

    /// `[item,…]` from already-encoded items, capped at ``maxDocumentBytes``.
    static func array(_ encodedItems: [String]) -> String {
        var kept: [String] = []
        var total = 2
        let reserve = 80
        for (index, item) in encodedItems.enumerated() {
            if total + item.utf8.count + 1 + reserve > maxDocumentBytes {
                kept.append("{\"name\":\"llmlab.truncated\",\"dropped\":\(encodedItems.count - index)}")
                break
            }
            kept.append(item)
            total += item.utf8.count + 1
        }
        return "[" + kept.joined(separator: ",") + "]"
    }

    // MARK: Text

    static func quoted(_ text: String) -> String { JSONString.quoted(text) }

    /// The text cut to at most ``maxStringBytes`` UTF-8 bytes on a scalar boundary, with a
    /// marker giving the original size.
    static func truncated(_ text: String) -> String {
        let length = text.utf8.count
        guard length > maxStringBytes else { return text }
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            if bytes + width > maxStringBytes { break }
            kept.append(scalar)
            bytes += width
        }
        return String(kept) + "…[truncated, \(length) bytes]"
    }

    /// Valid JSON text without insignificant whitespace.
    private static func minified(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var inString = false
        var escaped = false
        for scalar in text.unicodeScalars {
            if inString {
                out.append(scalar)
                if escaped { escaped = false } else if scalar == "\\" { escaped = true } else if scalar == "\"" { inString = false }
            } else if scalar == "\"" {
                inString = true
                out.append(scalar)
            } else if scalar != " " && scalar != "\n" && scalar != "\r" && scalar != "\t" {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
