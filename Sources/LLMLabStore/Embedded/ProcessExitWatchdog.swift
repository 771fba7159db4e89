import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops (and optionally deletes) an embedded cluster when this process exits, however it
/// exits. A small `/bin/sh` child blocks reading a pipe whose only write end this process
/// holds (close-on-exec, so no other child inherits it); when the process dies the kernel
/// closes it, the read returns EOF, and the child runs the stop command. The child ignores
/// SIGINT/SIGHUP/SIGTERM/SIGQUIT, so a Ctrl-C to the process group does not skip the cleanup.
enum ProcessExitWatchdog {
    /// Write ends kept open for the life of the process (never closed on purpose).
    private static let heldPipes = Mutex<[Int32]>([])

    static func install(stopCommand: [String], deleting paths: [String]) throws {
        var fds: [Int32] = [0, 0]
        // pipe2(O_CLOEXEC) is not exported by the Glibc module; the window between pipe and
        // fcntl only matters for a fork in another thread in that instant, and Foundation's
        // Process closes inherited descriptors in its children anyway.
        let created = pipe(&fds)
        if created == 0 {
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        guard created == 0 else {
            throw StoreError(code: .unavailable, message: "cannot create the embedded cluster's watchdog pipe: \(FileSystem.errnoDescription())")
        }
        var script = "trap '' INT HUP TERM QUIT\n"
        script += "cat >/dev/null 2>&1\n"
        script += stopCommand.map(Subprocess.shellQuote).joined(separator: " ") + " >/dev/null 2>&1\n"
        for path in paths {
            script += "rm -rf -- \(Subprocess.shellQuote(path))\n"
            script += "rmdir -- \(Subprocess.shellQuote(ClusterLayout.parent(path))) 2>/dev/null\n"
        }
        script += "exit 0\n"

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "llmlab-pg-watchdog"]
        process.environment = Subprocess.cleanEnvironment()
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let readEnd = FileHandle(fileDescriptor: fds[0], closeOnDealloc: false)
        process.standardInput = readEnd
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            close(fds[0])
            close(fds[1])
            throw StoreError(code: .unavailable, message: "cannot start the embedded cluster's watchdog: \(error.localizedDescription)")
        }
        close(fds[0])
        let writeEnd = fds[1]
        heldPipes.withLock { $0.append(writeEnd) }
    }
}
