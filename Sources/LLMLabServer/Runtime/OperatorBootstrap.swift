import Foundation
import LLMLabSecurity
import LLMLabStore
import Logging

/// Makes sure the operator can reach the server after the first start: when
/// `$LLMLAB_HOME/operator.token` is missing or no longer valid, a new operator credential
/// is issued and written there with mode 0600. The log names the file, never the token.
enum OperatorBootstrap {
    static func ensure(database: Database, tokenFile: String, logger: Logger) async throws {
        if let existing = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !existing.isEmpty
        {
            let hash = SecretToken.sha256Hex(existing)
            let live = try await database.withControlTransaction { connection in
                try await OperatorTokenRepository(connection, logger: logger).findLive(tokenHash: hash)
            }
            if live != nil {
                logger.info("operator credential ready", metadata: ["file": "\(tokenFile)"])
                return
            }
        }
        let token = SecretToken.issue(.operator)
        try await database.withControlTransaction { connection in
            try await OperatorTokenRepository(connection, logger: logger).insert(
                id: UUID(), name: "bootstrap \(ISO8601DateFormatter().string(from: Date()))", tokenHash: token.sha256Hex)
        }
        try writeSecretFile(token.secret + "\n", to: tokenFile)
        logger.notice("operator credential created; llmlab-admin reads it from this file", metadata: ["file": "\(tokenFile)"])
    }

    /// Writes a file only its owner can read, atomically (temp file + rename).
    static func writeSecretFile(_ contents: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ServerError("cannot create \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ServerError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
