/// A validating JSON reader that reports where things are instead of building a tree.
///
/// The proxy forwards request and response bodies byte for byte: re-encoding them would
/// reorder keys, reformat numbers (a 64-bit `seed` does not survive a `Double`) and cost
/// time on every call. It only needs to check that a body is well-formed JSON (RFC 8259),
/// read a few top-level members, and splice one member in or out, so it scans once and
/// keeps byte ranges.
struct JSONScanner {
    /// What a value is, from its first byte.
    enum Kind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    /// One member of an object: its decoded key and the byte range of its value.
    struct Member: Sendable {
        var key: String
        var kind: Kind
        var value: Range<Int>
    }

    /// Where and why a document is not well-formed JSON.
    struct SyntaxError: Error, Sendable, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "\(reason) at byte \(offset)" }
    }

    /// Nesting deeper than this is refused rather than recursed into.
    static let maximumDepth = 512

    let bytes: [UInt8]
    private(set) var index: Int

    init(_ bytes: [UInt8], from index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    // MARK: Entry points

    /// Validates that `bytes` is one JSON value (surrounded by whitespace only) and returns
    /// its kind and range.
    static func document(_ bytes: [UInt8]) throws(SyntaxError) -> (kind: Kind, range: Range<Int>) {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        let start = scanner.index
        let kind = try scanner.scanValue(depth: 0)
        let end = scanner.index
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else {
            throw SyntaxError(offset: scanner.index, reason: "unexpected data after the JSON value")
        }
        return (kind, start..<end)
    }

    /// The members of the object that starts at `range.lowerBound` (already validated, e.g.
    /// a range from ``document(_:)`` or a ``Member``). Later duplicates come later.
    static func members(ofObjectAt range: Range<Int>, in bytes: [UInt8]) throws(SyntaxError) -> [Member] {
        var scanner = JSONScanner(bytes, from: range.lowerBound)
        return try scanner.scanObjectMembers(depth: 0)
    }

    /// Whether the array at `range` has no elements.
    static func isEmptyArray(_ range: Range<Int>, in bytes: [UInt8]) -> Bool {
        var scanner = JSONScanner(bytes, from: range.lowerBound + 1)
        scanner.skipWhitespace()
        return scanner.index < bytes.count && bytes[scanner.index] == UInt8(ascii: "]")
    }

    /// The decoded string at `range` (a validated string value).
    static func string(at range: Range<Int>, in bytes: [UInt8]) throws(SyntaxError) -> String {
        var scanner = JSONScanner(bytes, from: range.lowerBound)
        return try scanner.scanString()
    }

    /// The boolean at `range` (a validated bool value).
    static func bool(at range: Range<Int>, in bytes: [UInt8]) -> Bool {
        bytes[range.lowerBound] == UInt8(ascii: "t")
    }

    // MARK: Scanning

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func fail(_ reason: String) -> SyntaxError {
        SyntaxError(offset: index, reason: reason)
    }

    /// Scans one value starting at `index` (no leading whitespace) and returns its kind.
    mutating func scanValue(depth: Int) throws(SyntaxError) -> Kind {
        guard index < bytes.count else { throw fail("unexpected end of the JSON text") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            _ = try scanObjectMembers(depth: depth, collect: false)
            return .object
        case UInt8(ascii: "["):
            try scanArray(depth: depth)
            return .array
        case UInt8(ascii: "\""):
            try skipString()
            return .string
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return .number
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func scanObjectMembers(depth: Int, collect: Bool = true) throws(SyntaxError) -> [Member] {
        guard depth < Self.maximumDepth else { throw fail("nesting is deeper than \(Self.maximumDepth) levels") }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { throw fail("expected an object") }
        index += 1
        var members: [Member] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
            let key: String
            if collect {
                key = try scanString()
            } else {
                try skipString()
                key = ""
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            let start = index
            let kind = try scanValue(depth: depth + 1)
            if collect { members.append(Member(key: key, kind: kind, value: start..<index)) }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end inside an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in an object") }
            index += 1
            return members
        }
    }

    private mutating func scanArray(depth: Int) throws(SyntaxError) {
        guard depth < Self.maximumDepth else { throw fail("nesting is deeper than \(Self.maximumDepth) levels") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            _ = try scanValue(depth: depth + 1)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end inside an array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in an array") }
            index += 1
            return
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(SyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of the JSON text") }
        let matches = literal.withUTF8Buffer { expected in
            bytes[index..<index + count].elementsEqual(expected)
        }
        guard matches else { throw fail("unexpected character") }
        index += count
    }

    private mutating func scanNumber() throws(SyntaxError) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("a number needs digits") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("a fraction needs digits") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("an exponent needs digits") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Validates a string (escapes, no raw control characters) without decoding it.
    private mutating func skipString() throws(SyntaxError) {
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                _ = try scanEscape()
            case 0x00..<0x20:
                throw fail("a control character must be escaped inside a string")
            default:
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    /// Decodes the string at `index` (which must be an opening quote).
    private mutating func scanString() throws(SyntaxError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("a control character must be escaped inside a string") }
            index += 1
        }
        var scalars = String.UnicodeScalarView()
        var pending = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
                return String(scalars)
            case UInt8(ascii: "\\"):
                scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
                pending.removeAll(keepingCapacity: true)
                scalars.append(try scanEscape())
            case 0x00..<0x20:
                throw fail("a control character must be escaped inside a string")
            default:
                pending.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    /// Reads one escape sequence at `index` (a backslash) and returns the scalar it stands for.
    private mutating func scanEscape() throws(SyntaxError) -> Unicode.Scalar {
        index += 1
        guard index < bytes.count else { throw fail("unterminated escape") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try scanHex4()
            if (0xD800...0xDBFF).contains(first) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    return "\u{FFFD}"  // lone high surrogate: accepted as JSON, decoded as U+FFFD
                }
                index += 2
                let second = try scanHex4()
                guard (0xDC00...0xDFFF).contains(second) else { return "\u{FFFD}" }
                let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                return Unicode.Scalar(value) ?? "\u{FFFD}"
            }
            return Unicode.Scalar(first) ?? "\u{FFFD}"
        default:
            index -= 1
            throw fail("invalid escape sequence")
        }
    }

    private mutating func scanHex4() throws(SyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("\\u needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("\\u needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
