import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything the console reads from a person: prompts for missing values and secrets
/// (passwords, provider keys). Secrets never come from argv, where `ps` and shell history
/// would keep them: they are read from stdin when it is a pipe, or typed with echo off.
enum Terminal {
    /// Whether stdin is an interactive terminal (so prompting is possible).
    static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Writes to stderr, unbuffered: notes and prompts never mix into stdout, which carries
    /// only the command's result (tables or JSON).
    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Prints a note for people on stderr.
    static func note(_ text: String) {
        writeError(text + "\n")
    }

    /// Asks for a visible value (tenant slug, email) on a terminal. `nil` answer or no
    /// terminal is a usage error naming the option to pass instead.
    static func ask(_ label: String, option: String, default defaultValue: String? = nil) throws -> String {
        guard stdinIsTerminal else {
            throw AdminError.usage("missing \(option) (stdin is not a terminal, so there is no one to ask)")
        }
        let suffix = defaultValue.map { " [\($0)]" } ?? ""
        writeError("\(label)\(suffix): ")
        guard let line = readLine(strippingNewline: true) else {
            throw AdminError.usage("missing \(option)")
        }
        let answer = line.trimmingWhitespace()
        if answer.isEmpty, let defaultValue { return defaultValue }
        guard !answer.isEmpty else { throw AdminError.usage("missing \(option)") }
        return answer
    }

    /// Reads a secret: the first line of stdin when stdin is not a terminal, otherwise a
    /// prompt with echo off (asked twice when `confirm`, for new passwords).
    static func readSecret(_ label: String, confirm: Bool = false) throws -> String {
        guard stdinIsTerminal else {
            guard let line = readLine(strippingNewline: true) else {
                throw AdminError.usage("expected the \(label.lowercased()) on stdin, got nothing")
            }
            let secret = line.hasSuffix("\r") ? String(line.dropLast()) : line
            guard !secret.isEmpty else {
                throw AdminError.usage("expected the \(label.lowercased()) on stdin, got an empty line")
            }
            return secret
        }
        let first = try promptHidden("\(label): ")
        guard !first.isEmpty else { throw AdminError.usage("\(label.lowercased()) must not be empty") }
        if confirm {
            let second = try promptHidden("\(label) (again): ")
            guard first == second else { throw AdminError.usage("the two entries differ; nothing was changed") }
        }
        return first
    }

    /// Reads one line from the terminal on stdin with echo turned off, restoring the
    /// terminal afterwards, also when the person presses Ctrl-C.
    private static func promptHidden(_ prompt: String) throws -> String {
        writeError(prompt)
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else {
            throw AdminError.failed("cannot read the terminal settings to turn echo off")
        }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        TerminalRestore.arm(original)
        defer { TerminalRestore.disarm() }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent) == 0 else {
            throw AdminError.failed("cannot turn terminal echo off")
        }
        let line = readLine(strippingNewline: true)
        var restored = original
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &restored)
        guard let line else { throw AdminError.usage("no input") }
        return line.hasSuffix("\r") ? String(line.dropLast()) : line
    }
}

/// Puts the terminal back (echo on) when the process is interrupted while a secret is
/// being typed; otherwise the person's shell would be left without echo.
private enum TerminalRestore {
    // nonisolated(unsafe) because a C signal handler cannot capture context: these are
    // written only on the prompting thread, before the handler is installed (arm) and
    // after it is removed (disarm), so the handler never races a write.
    nonisolated(unsafe) static var saved = termios()
    nonisolated(unsafe) static var armed = false

    static func arm(_ state: termios) {
        saved = state
        armed = true
        signal(SIGINT, restoreAndExit)
        signal(SIGTERM, restoreAndExit)
    }

    static func disarm() {
        armed = false
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// Signal handler: restore the terminal, end the line, and exit 130 like a shell would.
private func restoreAndExit(_ signal: Int32) {
    if TerminalRestore.armed {
        tcsetattr(STDIN_FILENO, TCSANOW, &TerminalRestore.saved)
    }
    let newline: [UInt8] = [0x0A]
    _ = newline.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, 1) }
    _exit(128 + signal)
}
