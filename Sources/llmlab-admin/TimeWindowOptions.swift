import ArgumentParser

/// `--since` and `--until`, shared by the time-ordered list commands (audit, usage) so
/// their rules and wording stay the same.
struct TimeWindowOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only entries at or after this time (RFC 3339, or a date).", valueName: "time"))
    var since: TimeArgument?

    @Option(help: ArgumentHelp("Only entries before this time (RFC 3339, or a date).", valueName: "time"))
    var until: TimeArgument?

    func validate() throws {
        if let since, let until, since.date >= until.date {
            throw ValidationError("--since must be earlier than --until")
        }
    }
}
