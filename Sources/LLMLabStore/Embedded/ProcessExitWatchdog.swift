import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops (and optionally deletes) an embedded cluster when this process exits, however it
/// exits. A small `/bin/sh` child blocks reading a pipe whose only write end this process
/// holds (close-on-exec, so no other child inherits it); when the process dies the kernel
/// closes it, the read returns EOF, and the child runs the stop command. The child ignores
/// SIGINT/SIGHUP/SIGTERM/SIGQUIT, so a Ctrl-C to the process group does not skip the cleanup.
enum ProcessExitWatchdog {
    /// Write ends kept open for the life of the process (never closed on purpose), by the
    /// data directory they guard: one watchdog per cluster, however often it is started.
    private static let heldPipes = Mutex<[String: Int32]>([:])

    static func install(for dataDirectory: String, stopCommand: [String], deleting paths: [String]) throws {
        if heldPipes.withLock({ $0[dataDirectory] != nil }) { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw StoreError(code: .unavailable, message: "cannot create the embedded cluster's watchdog pipe: \(FileSystem.errnoDescription())")
        }
        Subprocess.setCloseOnExec(fds[0])
        Subprocess.setCloseOnExec(fds[1])

        var script = "trap '' INT HUP TERM QUIT\n"
        script += "cat >/dev/null 2>&1\n"
        script += stopCommand.map(Subprocess.shellQuote).joined(separator: " ") + " >/dev/null 2>&1\n"
        for path in paths {
            script += "rm -rf -- \(Subprocess.shellQuote(path))\n"
            script += "rmdir -- \(Subprocess.shellQuote(ClusterLayout.parent(path))) 2>/dev/null\n"
        }
        script += "exit 0\n"

        do {
            _ = try Subprocess.spawn(["/bin/sh", "-c", script, "llmlab-pg-watchdog"], stdin: fds[0], stdout: nil, stderr: nil)
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[0])
        let writeEnd = fds[1]
        heldPipes.withLock { $0[dataDirectory] = writeEnd }
    }
}
