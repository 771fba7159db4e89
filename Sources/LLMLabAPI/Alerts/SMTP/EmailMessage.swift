import Foundation

/// An RFC 5322 message with one MIME text/plain UTF-8 part: Date, Message-ID, From, To,
/// Subject, MIME-Version and Content-* headers, CRLF line endings. An ASCII body goes as
/// 7bit; anything else as base64, so no relay has to support 8BITMIME. Header values are
/// single-line (CR/LF removed) and a non-ASCII subject is an RFC 2047 encoded word.
struct EmailMessage: Sendable {
    var from: String
    var to: [String]
    var subject: String
    var body: String
    var messageID: String
    var date: Date
    var extraHeaders: [(name: String, value: String)] = []

    /// The message as sent after DATA (before dot-stuffing).
    func rendered() -> String {
        var headers: [(String, String)] = [
            ("Date", Self.rfc5322Date(date)),
            ("Message-ID", "<\(messageID)>"),
            ("From", from),
            ("To", to.joined(separator: ", ")),
            ("Subject", Self.encodedHeader(subject)),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=UTF-8"),
        ]
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let lines = normalized.split(separator: "\n", omittingEmptySubsequences: false)
        let plain = normalized.allSatisfy(\.isASCII) && lines.allSatisfy { $0.utf8.count <= 998 }
        let encodedBody: String
        if plain {
            headers.append(("Content-Transfer-Encoding", "7bit"))
            encodedBody = lines.joined(separator: "\r\n")
        } else {
            headers.append(("Content-Transfer-Encoding", "base64"))
            let base64 = Data(normalized.utf8).base64EncodedString()
            encodedBody = stride(from: 0, to: base64.count, by: 76).map { offset -> String in
                let start = base64.index(base64.startIndex, offsetBy: offset)
                let end = base64.index(start, offsetBy: min(76, base64.count - offset))
                return String(base64[start..<end])
            }.joined(separator: "\r\n")
        }
        headers += extraHeaders.map { ($0.name, $0.value) }
        let head = headers.map { "\($0.0): \(Self.singleLine($0.1))" }.joined(separator: "\r\n")
        return head + "\r\n\r\n" + encodedBody
    }

    /// Lines starting with "." get another one (RFC 5321 §4.5.2), so the body can never end
    /// the DATA section early; then the terminating `CRLF.CRLF`.
    static func dataSection(_ rendered: String) -> String {
        let stuffed = rendered.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
        return stuffed + "\r\n.\r\n"
    }

    static func singleLine(_ value: String) -> String {
        value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    /// ASCII as is; otherwise RFC 2047 `=?UTF-8?B?…?=` words of at most 45 input bytes each
    /// (never splitting a character), separated by spaces (one header line, well under 998 bytes).
    static func encodedHeader(_ value: String) -> String {
        let line = singleLine(value)
        guard !line.allSatisfy(\.isASCII) else { return line }
        var words: [String] = []
        var chunk = ""
        for character in line {
            if chunk.utf8.count + String(character).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: " ")
    }

    /// `Sun, 29 Nov 2026 08:00:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
