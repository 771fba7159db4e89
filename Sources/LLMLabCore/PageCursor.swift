public import Foundation

/// Opaque keyset-pagination tokens. A cursor is the sort key of the last row returned,
/// base64url-encoded, so a client can only pass it back, never build one by hand.
public enum PageCursor {
    /// Encodes the sort-key components of the last row of a page.
    public static func encode(_ components: [String]) -> String {
        let joined = components.joined(separator: "\u{1F}")
        return Data(joined.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a token from a request; `nil` for an empty token (first page).
    public static func decode(_ token: String, expectedCount: Int, field: String = "page_token") throws -> [String]? {
        if token.isEmpty { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard token.utf8.count <= 512, let data = Data(base64Encoded: base64),
              let text = String(data: data, encoding: .utf8)
        else { throw invalid(field) }
        let parts = text.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == expectedCount else { throw invalid(field) }
        return parts
    }

    /// Encodes a (time, id) key, the common order of list calls.
    public static func encode(date: Date, id: UUID) -> String {
        encode([String(Int64((date.timeIntervalSince1970 * 1_000_000).rounded())), id.uuidString])
    }

    /// Decodes a (time, id) key written by ``encode(date:id:)``.
    public static func decodeDateID(_ token: String, field: String = "page_token") throws -> (Date, UUID)? {
        guard let parts = try decode(token, expectedCount: 2, field: field) else { return nil }
        guard let micros = Int64(parts[0]), let id = UUID(uuidString: parts[1]) else { throw invalid(field) }
        return (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
    }

    private static func invalid(_ field: String) -> ValidationError {
        ValidationError(field: field, reason: "is not a token this server issued; pass next_page_token from the previous response unchanged, or leave it empty for the first page")
    }
}
