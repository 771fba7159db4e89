import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Loading the master key from disk, kept apart from the key type because it is the only
/// file I/O in the module and carries the permission rules.
extension MasterKey {
    /// Reads the key from `file`, or creates the file with a new key (mode 0600, base64 and
    /// a newline; missing parent directories are created 0700) if it does not exist.
    ///
    /// Refuses a file that group or others can read or write, and anything that is not a
    /// regular file: a key readable by other local users protects nothing.
    /// Throws `KeyVaultError` (`.masterKeyFilePermissions`, `.masterKeyFile`, `.invalidMasterKey`).
    public static func loadOrCreate(file path: String) throws -> MasterKey {
        for _ in 0..<3 {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            if descriptor >= 0 {
                defer { close(descriptor) }
                return try readKey(descriptor: descriptor, path: path)
            }
            let openError = errno
            guard openError == ENOENT else {
                throw fileError("cannot open master key file \(path): \(describe(openError))")
            }
            if let created = try create(path: path) { return created }
            // Someone created the file between our open and our exclusive create: read theirs.
        }
        throw fileError("master key file \(path) keeps appearing and disappearing; check what else writes it")
    }

    private static func readKey(descriptor: Int32, path: String) throws -> MasterKey {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw fileError("cannot stat master key file \(path): \(describe(errno))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw fileError("master key file \(path) is not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw KeyVaultError(
                .masterKeyFilePermissions,
                "master key file \(path) has mode \(mode) and is accessible to group or others; "
                    + "run `chmod 600 \(path)` and restart")
        }
        var contents = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw fileError("cannot read master key file \(path): \(describe(errno))")
            }
            contents += chunk[0..<count]
            guard contents.count <= 4096 else {
                throw KeyVaultError(.invalidMasterKey, "master key file \(path) is too large to hold a key")
            }
        }
        do {
            return try MasterKey(base64: String(decoding: contents, as: UTF8.self))
        } catch {
            throw KeyVaultError(
                .invalidMasterKey, "master key file \(path) does not hold base64 of \(byteCount) bytes")
        }
    }

    /// Creates the file exclusively; `nil` if it already exists (lost a race).
    private static func create(path: String) throws -> MasterKey? {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw fileError("cannot create directory \(directory) for the master key file")
            }
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            let createError = errno
            if createError == EEXIST { return nil }
            throw fileError("cannot create master key file \(path): \(describe(createError))")
        }
        defer { close(descriptor) }
        let key = MasterKey.generate()
        let contents = Array((key.exportBase64() + "\n").utf8)
        // The umask can only clear bits from 0600; fchmod makes the mode exact regardless.
        guard fchmod(descriptor, 0o600) == 0 else {
            unlink(path)
            throw fileError("cannot set mode 0600 on master key file \(path): \(describe(errno))")
        }
        var written = 0
        while written < contents.count {
            let count = contents[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let writeError = errno
                unlink(path)
                throw fileError("cannot write master key file \(path): \(describe(writeError))")
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            let syncError = errno
            unlink(path)
            throw fileError("cannot flush master key file \(path): \(describe(syncError))")
        }
        return key
    }

    private static func fileError(_ message: String) -> KeyVaultError {
        KeyVaultError(.masterKeyFile, message)
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
