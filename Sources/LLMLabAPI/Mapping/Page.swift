/// One page of a keyset-paginated list. Handlers fetch `limit + 1` rows: the extra row
/// only says that a next page exists, and the token points after the last row shown.
struct Page<Row> {
    let rows: ArraySlice<Row>
    let nextToken: String

    init(_ fetched: [Row], limit: Int, token: (Row) -> String) {
        rows = fetched.prefix(limit)
        nextToken = fetched.count > limit ? rows.last.map(token) ?? "" : ""
    }
}
