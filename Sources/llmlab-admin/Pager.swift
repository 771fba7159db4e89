/// Follows `next_page_token` until the server has no more pages or `limit` items have
/// been collected. Page sizes stay within the server's maximum (500).
enum Pager {
    static let pageSize = 200

    static func collect<Item: Sendable>(
        limit: Int?,
        fetch: (_ pageToken: String, _ pageSize: Int32) async throws -> (items: [Item], next: String)
    ) async throws -> [Item] {
        var items: [Item] = []
        var token = ""
        repeat {
            let wanted = limit.map { min($0 - items.count, pageSize) } ?? pageSize
            if wanted <= 0 { break }
            let page = try await fetch(token, Int32(wanted))
            items.append(contentsOf: page.items)
            token = page.next
            // A page with no rows ends the walk even if a token came back, so a confused
            // server cannot keep the console looping.
            if page.items.isEmpty { break }
        } while !token.isEmpty
        if let limit, items.count > limit { items.removeLast(items.count - limit) }
        return items
    }
}
