import Foundation
public import LLMLabSecurity
public import LLMLabStore
public import Logging
import PostgresNIO

/// `llmlab-server rotate-master-key`: a new master key re-wraps every tenant's data key
/// in one transaction; provider-key ciphertexts are untouched (they are sealed with the
/// data keys, which do not change). Run it with the server stopped.
///
/// Crash safety: the new key is written to `<file>.new` before the transaction and moved
/// over the old file after the commit. If the process dies in between, `<file>.new`
/// holds the key that the database now needs; the error message says so.
public enum MasterKeyRotation {
    public struct Result: Sendable {
        public var tenants: Int
        public var oldFingerprint: String
        public var newFingerprint: String
    }

    public static func run(configuration: ServerConfiguration, environment: [String: String], logger: Logger) async throws -> Result {
        if let value = environment["LLMLAB_MASTER_KEY"], !value.isEmpty {
            throw ServerError("the master key comes from LLMLAB_MASTER_KEY; rotate it by unsetting that variable and using a key file (LLMLAB_MASTER_KEY_FILE), or re-wrap from your secret manager")
        }
        let keyFile = configuration.resolvedMasterKeyFile
        guard FileManager.default.fileExists(atPath: keyFile) else {
            throw ServerError("no master key at \(keyFile): nothing to rotate (the server creates one on first start)")
        }
        let pendingFile = keyFile + ".new"
        if FileManager.default.fileExists(atPath: pendingFile) {
            throw ServerError("\(pendingFile) exists: an earlier rotation did not finish. If the database was re-wrapped, move it over \(keyFile); otherwise delete it, then retry")
        }
        let old = try MasterKey.loadOrCreate(file: keyFile)
        let new = MasterKey.generate()
        try OperatorBootstrap.writeSecretFile(new.exportBase64() + "\n", to: pendingFile)

        let (databaseConfiguration, embedded) = try await LLMLabApplication.startDatabase(configuration: configuration, logger: logger)
        let database = Database(configuration: databaseConfiguration, logger: logger)
        let count: Int
        do {
            count = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.run() }
                defer { group.cancelAll() }
                return try await rewrapAll(database: database, from: old, to: new, logger: logger)
            }
        } catch {
            unlink(pendingFile)
            try? await embedded?.stop()
            throw error
        }
        try? await embedded?.stop()
        guard rename(pendingFile, keyFile) == 0 else {
            throw ServerError("the database now uses the key in \(pendingFile) but it could not be moved over \(keyFile): move it by hand")
        }
        return Result(tenants: count, oldFingerprint: old.fingerprint, newFingerprint: new.fingerprint)
    }

    /// Re-wraps every tenant's data key from `old` to `new` in one transaction: either
    /// all tenants move to the new key or none does.
    public static func rewrapAll(database: Database, from old: MasterKey, to new: MasterKey, logger: Logger) async throws -> Int {
        try await database.withControlTransaction { connection in
            let tenants = TenantRepository(connection, logger: logger)
            let keys = try await tenants.wrappedKeysForUpdate()
            for (id, wrapped) in keys {
                let rewrapped = try KeyVault.rewrap([UInt8](wrapped), tenantID: id.uuidString.lowercased(), from: old, to: new)
                try await tenants.updateWrappedKey(id: id, Data(rewrapped))
            }
            return keys.count
        }
    }
}
