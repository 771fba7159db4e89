/// Markup that is safe to send: literal text written in this module plus every
/// interpolated string escaped. Model names, trace names, span attributes and error
/// messages come from callers of the proxy and OTLP ingest, so nothing reaches a page
/// unescaped unless it is itself `HTML`.
struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    private(set) var text: String

    init(raw text: String) { self.text = text }
    init(stringLiteral value: String) { self.text = value }
    init(stringInterpolation: Interpolation) { self.text = stringInterpolation.text }

    static let empty = HTML(raw: "")

    var description: String { text }

    static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(raw: lhs.text + rhs.text) }
    static func += (lhs: inout HTML, rhs: HTML) { lhs.text += rhs.text }

    /// The pieces one after another.
    static func join(_ parts: [HTML], separator: HTML = .empty) -> HTML {
        HTML(raw: parts.map(\.text).joined(separator: separator.text))
    }

    /// Literal segments are markup; interpolated values are escaped unless they are `HTML`.
    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: String) { text += Escape.html(value) }
        mutating func appendInterpolation(_ value: Substring) { text += Escape.html(String(value)) }
        mutating func appendInterpolation(_ value: HTML) { text += value.text }
        mutating func appendInterpolation(_ values: [HTML]) { for value in values { text += value.text } }
        mutating func appendInterpolation(_ value: Int) { text += String(value) }
        mutating func appendInterpolation(_ value: Int32) { text += String(value) }
        mutating func appendInterpolation(_ value: Int64) { text += String(value) }
        /// Chart geometry: fixed to two decimals so the SVG stays small and deterministic.
        mutating func appendInterpolation(geometry value: Double) { text += Escape.number(value) }
    }
}

/// Escaping for the three contexts the dashboard writes into: HTML text and
/// double-quoted attributes (the same rules), URL query components, and numbers in SVG.
enum Escape {
    /// `&`, `<`, `>`, `"` and `'`: safe in element content and in double- or single-quoted attributes.
    static func html(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func query(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0f)])
            }
        }
        return out
    }

    /// A query string from pairs, empty values left out (`?a=1&b=2`, or "" when none).
    static func queryString(_ pairs: [(String, String)]) -> String {
        let kept = pairs.filter { !$0.1.isEmpty }
        guard !kept.isEmpty else { return "" }
        return "?" + kept.map { "\(query($0.0))=\(query($0.1))" }.joined(separator: "&")
    }

    /// A finite number with at most two decimals ("12.5", "0", "100").
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let hundredths = (value * 100).rounded()
        let whole = Int(hundredths) / 100
        let fraction = abs(Int(hundredths) % 100)
        let sign = hundredths < 0 && whole == 0 ? "-" : ""
        if fraction == 0 { return "\(sign)\(whole)" }
        let digits = fraction < 10 ? "0\(fraction)" : "\(fraction)"
        return "\(sign)\(whole).\(digits.hasSuffix("0") ? String(digits.dropLast()) : digits)"
    }
}
