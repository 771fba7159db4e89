import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a helper program (initdb, pg_ctl, runuser, test) to completion and captures its
/// combined output for error messages. These programs never receive secrets (the embedded
/// cluster uses trust auth over a private socket), so their output is safe to report.
///
/// Built on `posix_spawn` + `waitpid` rather than Foundation's `Process`: on Linux,
/// `Process.waitUntilExit()` called off the main thread was seen to hang forever under the
/// Swift Testing runner (the child already a zombie), which froze the whole test process.
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

    /// Runs `command` (absolute path first) in `/` with a clean, predictable environment:
    /// the caller's, minus libpq / server variables that would redirect the tools (PGDATA,
    /// PGPORT, PGHOST, ...), with English messages. The blocking wait happens on a Dispatch
    /// thread, never on the cooperative pool.
    static func run(_ command: [String]) async throws -> Result {
        precondition(!command.isEmpty)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try runBlocking(command) })
            }
        }
    }

    static func runBlocking(_ command: [String]) throws -> Result {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw StoreError(code: .unavailable, message: "cannot create a pipe to run \(command[0]): \(FileSystem.errnoDescription())")
        }
        setCloseOnExec(fds[0])
        setCloseOnExec(fds[1])
        let readEnd = fds[0]
        let writeEnd = fds[1]

        let pid: pid_t
        do {
            pid = try spawn(command, stdin: nil, stdout: writeEnd, stderr: writeEnd)
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(writeEnd)

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(readEnd)
        let status = waitForExit(pid)
        return Result(status: status, output: String(decoding: output, as: UTF8.self))
    }

    /// Starts `command` without waiting for it. `stdin` / `stdout` / `stderr` are descriptors
    /// to install in the child (`nil` = /dev/null). Every other descriptor is closed in the child.
    static func spawn(_ command: [String], stdin: Int32?, stdout: Int32?, stderr: Int32?) throws -> pid_t {
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        for (target, source) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        #if os(Linux)
        // Descriptors 3+ are close-on-exec in this process by convention (NIO, our pipes);
        // closefrom also closes any inherited ones that are not. Both calls are glibc
        // extensions (2.29 / 2.34) the Glibc module does not export: looked up at run time.
        if let closeFrom = GlibcExtensions.addCloseFrom {
            _ = closeFrom(&actions, 3)
        }
        if let changeDirectory = GlibcExtensions.addChangeDirectory {
            // The cluster's user may not be able to enter our working directory (/root/...).
            _ = changeDirectory(&actions, "/")
        }
        #endif
        // Restore default signal dispositions and an empty mask in the child.
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let environment = cleanEnvironment().map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = withCStrings(command) { argv in
            withCStrings(environment) { envp in
                posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else {
            throw StoreError(code: .unavailable, message: "could not run \(command[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Waits for `pid` and returns its exit status (128 + signal number if it was killed).
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }

    static func setCloseOnExec(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
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

    /// Calls `body` with a NULL-terminated C array of the strings.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}

#if os(Linux)
/// glibc's non-portable posix_spawn file actions, resolved with `dlsym` (not in the Glibc module).
private enum GlibcExtensions {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    static let addChangeDirectory: AddChangeDirectory? = dlsym(nil, "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChangeDirectory.self) }
}
#endif
