#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over POSIX file calls used to prepare the cluster's directories.
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// (uid, mode bits) of a path, not following a final symlink.
    static func ownerAndMode(_ path: String) -> (uid: UInt32, mode: UInt32)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (UInt32(info.st_uid), UInt32(info.st_mode) & 0o7777)
    }

    static func symlinkDestination(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `mkdir -p` with `mode` for the directories it creates (existing ones are untouched).
    static func createDirectories(_ path: String, mode: UInt32) throws {
        var current = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            if isDirectory(current) { continue }
            if mkdir(current, mode_t(mode)) != 0 && errno != EEXIST {
                throw StoreError(code: .unavailable, message: "cannot create directory \(current): \(errnoDescription())")
            }
            _ = chmod(current, mode_t(mode))  // mkdir honours the umask; we want exactly `mode`
        }
    }

    static func chown(_ path: String, to account: SystemAccount) throws {
        if lchown(path, account.uid, account.gid) != 0 {
            throw StoreError(code: .unavailable, message: "cannot give \(path) to user '\(account.name)': \(errnoDescription())")
        }
    }

    static func setMode(_ path: String, _ mode: UInt32) throws {
        if chmod(path, mode_t(mode)) != 0 {
            throw StoreError(code: .unavailable, message: "cannot set permissions of \(path): \(errnoDescription())")
        }
    }

    static func createSymbolicLink(at path: String, to destination: String) throws {
        if symlink(destination, path) != 0 {
            throw StoreError(code: .unavailable, message: "cannot create the link \(path) → \(destination): \(errnoDescription())")
        }
    }

    /// Creates an empty file if missing, with `mode`.
    static func touch(_ path: String, mode: UInt32) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else {
            throw StoreError(code: .unavailable, message: "cannot create \(path): \(errnoDescription())")
        }
        close(fd)
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    static func errnoDescription() -> String {
        String(cString: strerror(errno))
    }

    /// Whether process `pid` is alive and is a PostgreSQL server process.
    static func isPostgresProcess(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        #if os(Linux)
        guard let comm = readSmallFile("/proc/\(pid)/comm") else { return true }
        let name = comm.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
        return name == "postgres" || name == "postmaster"
        #else
        return true
        #endif
    }

    /// Reads a file of at most 64 KiB (pid files, /proc entries); `nil` if unreadable.
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while total < buffer.count {
            let count = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + total, raw.count - total)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            total += count
        }
        return String(decoding: buffer[0..<total], as: UTF8.self)
    }
}

func isExecutable(_ path: String) -> Bool {
    access(path, X_OK) == 0 && !FileSystem.isDirectory(path)
}
