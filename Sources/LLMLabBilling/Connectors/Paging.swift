/// Cursor paging shared by the OpenAI and Anthropic admin APIs (`has_more` + `next_page`,
/// sent back as `page=`), with a guard against a provider that never stops.
enum CursorPaging {
    static let maximumPages = 1_000

    /// Calls `fetchPage` with nil, then with each `next_page` while `has_more` is true.
    static func all(what: String, _ fetchPage: (String?) async throws -> BillingJSON) async throws -> [BillingJSON] {
        var pages: [BillingJSON] = []
        var cursor: String?
        var seen: Set<String> = []
        repeat {
            let page = try await fetchPage(cursor)
            pages.append(page)
            guard page["has_more"]?.boolValue == true else { break }
            guard let next = page.string("next_page"), !next.isEmpty else {
                throw BillingError(.invalidResponse, "\(what): has_more is true but next_page is missing")
            }
            guard seen.insert(next).inserted, pages.count < maximumPages else {
                throw BillingError(.invalidResponse, "\(what): paging does not end (next_page repeats or more than \(maximumPages) pages)")
            }
            cursor = next
        } while true
        return pages
    }
}

/// Query strings without Foundation's URL encoding surprises: RFC 3986 unreserved
/// characters pass, everything else is percent-encoded.
enum Query {
    static func encode(_ items: [(String, String)]) -> String {
        items.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.append(Character(Unicode.Scalar(byte)))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}
