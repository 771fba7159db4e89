import Dispatch
import Foundation

/// Runs a helper program (initdb, pg_ctl, runuser, test) to completion and captures its
/// combined output for error messages. These programs never receive secrets (the embedded
/// cluster uses trust auth over a private socket), so their output is safe to report.
enum Subprocess {
    struct Result: Sendable {
        var status: Int32
        var output: String

        var succeeded: Bool { self.status == 0 }

        /// The last lines of the output, for error messages.
        var tail: String {
            let lines = self.output.split(whereSeparator: \.isNewline).suffix(15)
            return lines.joined(separator: "\n")
        }
    }

    /// Runs `command` (absolute path first) with a clean, predictable environment: the
    /// caller's, minus libpq / server variables that would redirect the tools (PGDATA,
    /// PGPORT, PGHOST, ...), with English messages.
    static func run(_ command: [String], currentDirectory: String = "/") async throws -> Result {
        precondition(!command.isEmpty)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: command[0])
                process.arguments = Array(command.dropFirst())
                process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory)
                process.environment = cleanEnvironment()
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: StoreError(
                        code: .unavailable,
                        message: "could not run \(command[0]): \(error.localizedDescription)"
                    ))
                    return
                }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: Result(
                    status: process.terminationStatus,
                    output: String(decoding: data, as: UTF8.self)
                ))
            }
        }
    }

    static func cleanEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !(key.hasPrefix("PG") || key == "LLMLAB_DATABASE_URL")
        }
        environment["LC_ALL"] = "C"
        environment["LC_MESSAGES"] = "C"
        environment["LANG"] = "C"
        return environment
    }

    /// Quotes one word for `/bin/sh`.
    static func shellQuote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
