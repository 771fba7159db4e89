import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A session saved by `login`, one per server address.
struct SavedSession: Codable, Sendable {
    var token: String
    var tenant: String
    var email: String
    /// When the server said the session ends; `nil` when it did not say.
    var expiresAt: Date?

    enum CodingKeys: String, CodingKey {
        case token, tenant, email
        case expiresAt = "expires_at"
    }

    func isExpired(now: Date = Date()) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= now
    }
}

/// `~/.config/llmlab/credentials.json` (or under `$XDG_CONFIG_HOME`): the sessions saved
/// by `login`, keyed by server address. The directory is 0700 and the file 0600, written
/// atomically (temporary file + rename) so a crash never leaves half a token on disk.
struct CredentialStore {
    private struct FileContents: Codable {
        var version = 1
        var sessions: [String: SavedSession] = [:]
    }

    let directory: String
    var path: String { directory + "/credentials.json" }

    init() {
        let configHome: String
        if let xdg = Environment.value("XDG_CONFIG_HOME"), xdg.hasPrefix("/") {
            configHome = xdg
        } else {
            let home = Environment.value("HOME") ?? NSHomeDirectory()
            configHome = home + "/.config"
        }
        directory = configHome + "/llmlab"
    }

    func session(for address: String) -> SavedSession? {
        load().sessions[address]
    }

    func save(_ session: SavedSession, for address: String) throws {
        var contents = load()
        contents.sessions[address] = session
        try persist(contents)
    }

    /// Removes the session for `address`; returns whether there was one.
    @discardableResult
    func remove(for address: String) throws -> Bool {
        var contents = load()
        guard contents.sessions.removeValue(forKey: address) != nil else { return false }
        try persist(contents)
        return true
    }

    private func load() -> FileContents {
        guard let data = FileManager.default.contents(atPath: path) else { return FileContents() }
        tightenModeIfNeeded()
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let contents = try? decoder.decode(FileContents.self, from: data) else {
            Terminal.note("warning: ignoring \(path): it is not a credentials file this console wrote")
            return FileContents()
        }
        return contents
    }

    /// A credentials file others can read is fixed on sight rather than trusted silently.
    private func tightenModeIfNeeded() {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 else { return }
        Terminal.note("warning: \(path) was readable by other users; setting its mode to 0600")
        chmod(path, 0o600)
    }

    private func persist(_ contents: FileContents) throws {
        try ensureDirectory()
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(contents)

        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw failure("cannot write \(path)")
        }
    }

    /// Creates the directory (and any missing parents) as 0700; tightens an existing one.
    private func ensureDirectory() throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw AdminError.failed("cannot create \(directory): \(error.localizedDescription)")
        }
        chmod(directory, 0o700)
    }

    private func failure(_ what: String) -> AdminError {
        AdminError.failed("\(what): \(String(cString: strerror(errno)))")
    }
}

/// Where the token for a call came from, for `whoami` and for error hints.
enum CredentialSource: Sendable {
    case option
    case environment
    case savedSession(SavedSession)
    case operatorFile(String)

    var summary: String {
        switch self {
        case .option: "--token"
        case .environment: "LLMLAB_TOKEN"
        case .savedSession(let session):
            if let expiresAt = session.expiresAt {
                "session saved by login, expires \(Display.timestampWithDistance(expiresAt))"
            } else {
                "session saved by login"
            }
        case .operatorFile(let path): "operator token \(path)"
        }
    }
}

struct ResolvedCredential: Sendable {
    var token: String
    var source: CredentialSource
}

/// The order a token is looked for: `--token`, `LLMLAB_TOKEN`, the session `login` saved
/// for this address, then the operator token in `$LLMLAB_HOME/operator.token`.
struct CredentialResolver {
    var global: GlobalOptions
    var address: ServerAddress
    var store = CredentialStore()

    var operatorTokenPath: String { global.resolvedHome + "/operator.token" }

    /// The token from the command line or the environment, if any.
    func explicitCredential() -> ResolvedCredential? {
        if let token = global.token?.trimmingWhitespace(), !token.isEmpty {
            return ResolvedCredential(token: token, source: .option)
        }
        if let token = Environment.value("LLMLAB_TOKEN")?.trimmingWhitespace(), !token.isEmpty {
            return ResolvedCredential(token: token, source: .environment)
        }
        return nil
    }

    func resolve() throws -> ResolvedCredential {
        if let explicit = explicitCredential() { return explicit }
        if let session = store.session(for: address.description) {
            if session.isExpired() {
                let when = session.expiresAt.map { " at \(Display.rfc3339($0))" } ?? ""
                throw AdminError.failed(
                    "your saved session for \(address) (\(session.email) in \(session.tenant)) expired\(when): "
                        + "run `llmlab-admin login` again, or `llmlab-admin logout` to fall back to the operator token")
            }
            return ResolvedCredential(token: session.token, source: .savedSession(session))
        }
        let path = operatorTokenPath
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path),
                  let text = String(data: data, encoding: .utf8)?.trimmingWhitespace(), !text.isEmpty
            else {
                throw AdminError.failed(
                    "cannot read the operator token \(path) (it is mode 0600: run as the user that runs llmlab-server), "
                        + "or log in with `llmlab-admin login`")
            }
            return ResolvedCredential(token: text, source: .operatorFile(path))
        }
        throw AdminError.failed(
            "no credentials for \(address): run `llmlab-admin login`, pass --token or set LLMLAB_TOKEN "
                + "(no operator token at \(path); pass --home or set LLMLAB_HOME to the server's state directory)")
    }
}
