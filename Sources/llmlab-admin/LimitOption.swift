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
