import ArgumentParser
import Foundation

/// Entry point. Parsing and dispatch are done here rather than by `AsyncParsableCommand.main()`
/// so that every failure maps to the documented exit status and reads as one plain
/// `error: …` line: 64 for usage errors (argument-parser's parse and validation errors
/// included), 1 for failed commands, 0 for `--help`.
func runAdmin() async -> Never {
    do {
        var command = try LLMLabAdmin.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
        exit(ExitStatus.success)
    } catch let error as AdminError {
        switch error {
        case .usage(let message): Terminal.note("error: \(message)")
        case .failed(let message): Terminal.note("error: \(message)")
        case .negativeResult: break
        }
        exit(error.exitCode)
    } catch {
        // Help, version, parse and validation errors, and ExitCode: argument-parser knows
        // how to print them and which status they carry (64 for usage, 0 for help).
        let code = LLMLabAdmin.exitCode(for: error)
        if code == .failure, !(error is ExitCode) {
            // Anything else escaped a command unmapped: say it plainly, no dump.
            Terminal.note("error: \(LLMLabAdmin.message(for: error))")
            exit(ExitStatus.failure)
        }
        LLMLabAdmin.exit(withError: error)
    }
}

await runAdmin()
