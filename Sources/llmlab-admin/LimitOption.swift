import ArgumentParser

/// `--limit`, shared by every list command: lists follow the server's pages until done
/// or until this many entries are collected.
struct LimitOption: ParsableArguments {
    @Option(help: "Stop after this many entries (default: all).")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }
}

/// `--limit` of the log commands (`alert deliveries`, `alert history`, `billing runs`): one
/// request of at most 500 entries, newest first (the server's default is 50).
struct LogLimitOption: ParsableArguments {
    @Option(help: "At most this many (default 50, at most 500).")
    var limit: Int?

    func validate() throws {
        if let limit, !(1...500).contains(limit) { throw ValidationError("--limit must be between 1 and 500") }
    }

    /// For the request: 0 asks for the server's default.
    var requested: Int32 { Int32(limit ?? 0) }
}
