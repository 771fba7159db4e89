import ArgumentParser

/// `--since`, `--until` and `--limit`, shared by the time-ordered list commands (audit,
/// usage) so their rules and wording stay the same.
struct TimeWindowOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only entries at or after this time (RFC 3339, or a date).", valueName: "time"))
    var since: TimeArgument?

    @Option(help: ArgumentHelp("Only entries before this time (RFC 3339, or a date).", valueName: "time"))
    var until: TimeArgument?

    @Option(help: "Stop after this many entries (default: all).")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let since, let until, since.date >= until.date {
            throw ValidationError("--since must be earlier than --until")
        }
    }
}
