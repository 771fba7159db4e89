/// Follows `next_page_token` until the server has no more pages or `limit` items have
/// been collected. Page sizes stay within the server's maximum (500).
enum Pager {
    static let pageSize = 200

    static func collect<Item: Sendable>(
        limit: Int?,
        fetch: (_ pageToken: String, _ pageSize: Int32) async throws -> (items: [Item], next: String)
    ) async throws -> [Item] {
        try await collectPage(limit: limit, fetch: fetch).items
    }

    /// Like ``collect(limit:fetch:)``, starting at `startingAt` (a token a previous listing
    /// printed), and also returning the token after the last item collected ("" at the end),
    /// so a listing cut short by `limit` can be continued.
    static func collectPage<Item: Sendable>(
        limit: Int?, startingAt start: String = "",
        fetch: (_ pageToken: String, _ pageSize: Int32) async throws -> (items: [Item], next: String)
    ) async throws -> (items: [Item], next: String) {
        var items: [Item] = []
        var token = start
        repeat {
            let wanted = limit.map { min($0 - items.count, pageSize) } ?? pageSize
            if wanted <= 0 { break }
            let page = try await fetch(token, Int32(wanted))
            items.append(contentsOf: page.items)
            token = page.next
            // A page with no rows ends the walk even if a token came back, so a confused
            // server cannot keep the console looping.
            if page.items.isEmpty { token = ""; break }
        } while !token.isEmpty
        // Pages never exceed what was asked for, so the token still follows the last item.
        if let limit, items.count > limit { items.removeLast(items.count - limit) }
        return (items, token)
    }
}
