/// Failures the console reports in plain words, each with the exit code a script can
/// branch on: 64 when the command line itself is wrong, 1 when the command could not be
/// carried out (the server said no, or it could not be reached).
enum AdminError: Error {
    /// The invocation is wrong or incomplete (exit 64, like an argument-parser error).
    case usage(String)
    /// The command ran and failed (exit 1); the text is printed after `error: `.
    case failed(String)
    /// The command ran and reported a negative result itself, e.g. NOT_SERVING or a broken
    /// audit chain; nothing more to print (exit 1).
    case negativeResult

    /// The process exit status for this failure.
    var exitCode: Int32 {
        switch self {
        case .usage: ExitStatus.usage
        case .failed, .negativeResult: ExitStatus.failure
        }
    }
}

/// The exit statuses of `llmlab-admin`, documented in `--help`.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    /// `EX_USAGE` from sysexits(3), what swift-argument-parser uses for validation errors.
    static let usage: Int32 = 64
}
