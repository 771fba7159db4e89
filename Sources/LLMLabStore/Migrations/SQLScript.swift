/// Splits a migration file into single statements.
///
/// PostgresNIO speaks only the extended query protocol, which accepts one statement per
/// message, so a migration is sent statement by statement (inside one transaction). The
/// splitter understands what can hide a `;`: `--` and nested `/* */` comments,
/// `'...'` / `E'...'` strings, `"..."` identifiers, `$tag$...$tag$` bodies, and
/// `BEGIN ATOMIC ... END` bodies of SQL-standard functions (tracked the way psql does).
enum SQLScript {
    static func statements(in sql: String) -> [String] {
        let bytes = Array(sql.utf8)
        var statements: [String] = []
        var start = 0
        var index = 0
        var hasContent = false  // anything besides whitespace and comments since `start`
        var words: [String] = []  // leading words of the statement, uppercased (first few only)
        var isCreateRoutine = false
        var beginDepth = 0

        func flush(until end: Int) {
            if hasContent {
                let text = String(decoding: bytes[start..<end], as: UTF8.self)
                statements.append(trim(text))
            }
            start = end + 1
            hasContent = false
            words = []
            isCreateRoutine = false
            beginDepth = 0
        }

        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil

            if byte == UInt8(ascii: "-"), next == UInt8(ascii: "-") {
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            }
            if byte == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                var depth = 1
                index += 2
                while index < bytes.count, depth > 0 {
                    if bytes[index] == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                        depth += 1
                        index += 2
                    } else if bytes[index] == UInt8(ascii: "*"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                        depth -= 1
                        index += 2
                    } else {
                        index += 1
                    }
                }
                continue
            }
            if isWhitespace(byte) {
                index += 1
                continue
            }
            if byte == UInt8(ascii: ";") {
                if beginDepth > 0 {
                    index += 1
                    continue
                }
                flush(until: index)
                index += 1
                continue
            }

            hasContent = true

            if byte == UInt8(ascii: "'") {
                // E'...' (escape string) if the quote directly follows a lone E.
                let escapeString = index > 0 && (bytes[index - 1] | 0x20) == UInt8(ascii: "e")
                    && (index < 2 || !isIdentifierByte(bytes[index - 2]))
                index = skipQuoted(bytes, from: index, quote: UInt8(ascii: "'"), backslashEscapes: escapeString)
                continue
            }
            if byte == UInt8(ascii: "\"") {
                index = skipQuoted(bytes, from: index, quote: UInt8(ascii: "\""), backslashEscapes: false)
                continue
            }
            if byte == UInt8(ascii: "$"), let tagEnd = dollarTagEnd(bytes, at: index) {
                let tag = Array(bytes[index...tagEnd])
                index = tagEnd + 1
                // Find the closing tag.
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "$"), index + tag.count <= bytes.count,
                       Array(bytes[index..<(index + tag.count)]) == tag {
                        index += tag.count
                        break
                    }
                    index += 1
                }
                if index >= bytes.count { index = bytes.count }
                continue
            }
            if isIdentifierStart(byte) {
                let wordStart = index
                while index < bytes.count, isIdentifierByte(bytes[index]) { index += 1 }
                let word = String(decoding: bytes[wordStart..<index], as: UTF8.self).uppercased()
                if words.count < 4 {
                    words.append(word)
                    if words.first == "CREATE", word == "FUNCTION" || word == "PROCEDURE" {
                        isCreateRoutine = true
                    }
                }
                if isCreateRoutine {
                    switch word {
                    case "BEGIN": beginDepth += 1
                    case "CASE": if beginDepth > 0 { beginDepth += 1 }
                    case "END": if beginDepth > 0 { beginDepth -= 1 }
                    default: break
                    }
                }
                continue
            }
            index += 1
        }
        flush(until: bytes.count)
        return statements
    }

    /// Index just past the closing quote (or the end of input).
    private static func skipQuoted(_ bytes: [UInt8], from opening: Int, quote: UInt8, backslashEscapes: Bool) -> Int {
        var index = opening + 1
        while index < bytes.count {
            let byte = bytes[index]
            if backslashEscapes, byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte == quote {
                if index + 1 < bytes.count, bytes[index + 1] == quote {
                    index += 2  // doubled quote
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return bytes.count
    }

    /// If `$` at `index` opens a dollar quote (`$$` or `$tag$`), the index of its closing `$`.
    private static func dollarTagEnd(_ bytes: [UInt8], at index: Int) -> Int? {
        // `a$b` is an identifier and `$1` a parameter, not quotes.
        if index > 0, isIdentifierByte(bytes[index - 1]) { return nil }
        var cursor = index + 1
        if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "$") { return cursor }
        guard cursor < bytes.count, isIdentifierStart(bytes[cursor]) else { return nil }
        while cursor < bytes.count, isIdentifierByte(bytes[cursor]), bytes[cursor] != UInt8(ascii: "$") { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "$") else { return nil }
        return cursor
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d || byte == 0x0c
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "$")
    }

    private static func trim(_ text: String) -> String {
        var slice = Substring(text)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
