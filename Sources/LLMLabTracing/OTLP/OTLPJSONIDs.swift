/// OTLP/JSON differs from the proto3 JSON mapping in one way that matters for decoding:
/// `traceId`, `spanId` and `parentSpanId` (of spans and links) are hex strings, where proto3
/// JSON has base64 for `bytes` fields. A hex string is also valid base64, so handing OTLP/JSON
/// to a proto3 JSON decoder as is silently produces wrong ids (24 bytes for a trace id).
///
/// This pass rewrites the *values* of those members from hex to base64 in the raw JSON text,
/// then SwiftProtobuf's JSON decoder does the rest (integer or named enums, 64-bit integers as
/// strings or numbers, unknown fields ignored, `bytesValue` in base64 as the spec says). It is
/// a single linear scan that tracks only whether a string is an object key; it does not
/// validate the JSON (the decoder after it does) and leaves everything else byte for byte.
///
/// - Both the lowerCamelCase keys the spec mandates and the proto field names are rewritten,
///   because SwiftProtobuf accepts both spellings.
/// - Hex is case-insensitive (the spec's own example uses uppercase).
/// - A value that is not hex but is base64 of exactly 8 or 16 bytes (exporters that used a
///   generic proto3 JSON marshaller) is left alone and decodes as base64.
/// - Any other value (odd length, stray characters, escapes) becomes a one-byte id, which no
///   id field accepts, so the span is rejected with a reason instead of failing the request.
/// - In `ExportTraceServiceRequest` these member names occur only on `Span` and `Span.Link`;
///   attribute keys are string *values* (`"key": "traceId"`), which this pass leaves alone.
enum OTLPJSONIDs {
    private static let idKeys: Set<[UInt8]> = Set(
        ["traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"].map { Array($0.utf8) }
    )
    private static let invalidIDBase64: [UInt8] = Array("/w==".utf8)  // one byte 0xFF

    static func rewriteHexIDs(_ json: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(json.count)
        var containers: [UInt8] = []  // '{' or '['
        var expectingKey = false
        var valueIsID = false
        var index = 0
        let count = json.count
        while index < count {
            let byte = json[index]
            switch byte {
            case UInt8(ascii: "{"):
                containers.append(byte)
                expectingKey = true
                valueIsID = false
            case UInt8(ascii: "["):
                containers.append(byte)
                expectingKey = false
                valueIsID = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = containers.popLast()
                expectingKey = false
                valueIsID = false
            case UInt8(ascii: ","):
                expectingKey = containers.last == UInt8(ascii: "{")
                valueIsID = false
            case UInt8(ascii: ":"):
                expectingKey = false
            case UInt8(ascii: "\""):
                let end = endOfString(json, openingQuote: index)
                let terminated = end <= count && json[end - 1] == UInt8(ascii: "\"") && end - index >= 2
                if expectingKey {
                    valueIsID = terminated && idKeys.contains(Array(json[(index + 1)..<(end - 1)]))
                    expectingKey = false
                    output.append(contentsOf: json[index..<end])
                } else if valueIsID && terminated {
                    output.append(UInt8(ascii: "\""))
                    output.append(contentsOf: base64ForID(json[(index + 1)..<(end - 1)]))
                    output.append(UInt8(ascii: "\""))
                    valueIsID = false
                } else {
                    output.append(contentsOf: json[index..<end])
                    valueIsID = false
                }
                index = end
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                break
            default:
                valueIsID = false  // a number, true/false/null (or garbage the decoder will report)
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// Index just past the closing quote, or `json.count` for an unterminated string.
    private static func endOfString(_ json: [UInt8], openingQuote: Int) -> Int {
        var index = openingQuote + 1
        while index < json.count {
            switch json[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return json.count
    }

    private static func base64ForID(_ text: ArraySlice<UInt8>) -> [UInt8] {
        if let bytes = hexBytes(text) { return base64(bytes) }
        if let decoded = base64Bytes(text), decoded.count == 8 || decoded.count == 16 { return Array(text) }
        return invalidIDBase64
    }

    static func hexBytes(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var high: UInt8? = nil
        for character in text {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let upper = high {
                bytes.append(upper << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(index + 1 < bytes.count ? alphabet[Int(group >> 6 & 0x3F)] : UInt8(ascii: "="))
            output.append(index + 2 < bytes.count ? alphabet[Int(group & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return output
    }

    /// Standard or URL-safe base64, padded or not; `nil` if not base64.
    static func base64Bytes(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var trimmed = text
        while trimmed.last == UInt8(ascii: "=") { trimmed = trimmed.dropLast() }
        guard text.count - trimmed.count <= 2, trimmed.count % 4 != 1 else { return nil }
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in trimmed {
            let value: UInt32
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return bytes
    }
}
