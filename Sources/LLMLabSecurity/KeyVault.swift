import Crypto

/// Envelope encryption for tenant secrets (provider API keys).
///
/// The master key wraps one random data key per tenant with AES-256-GCM, bound to the
/// tenant id; data keys seal the secrets. Only wrapped data keys and sealed secrets are
/// stored, so a database dump alone reveals nothing, a blob moved to another tenant fails
/// to open, and rotating the master key only rewraps the data keys.
public struct KeyVault: Sendable {
    let masterKey: MasterKey

    public init(masterKey: MasterKey) {
        self.masterKey = masterKey
    }

    /// Fingerprint of the master key in use, for logs and diagnostics.
    public var masterKeyFingerprint: String { masterKey.fingerprint }

    /// A new random data key for `tenantID` and its wrapped form to store.
    public func newDataKey(tenantID: String) throws -> (DataKey, wrapped: [UInt8]) {
        let dataKey = DataKey(key: .init(size: .bits256))
        let wrapped = try Self.wrap(dataKey, tenantID: tenantID, under: masterKey)
        return (dataKey, wrapped: wrapped)
    }

    /// The data key inside `wrapped`. Throws `KeyVaultError` `.authenticationFailed` if it
    /// was wrapped for another tenant or under another master key, or was altered.
    public func unwrap(_ wrapped: [UInt8], tenantID: String) throws -> DataKey {
        try Self.unwrap(wrapped, tenantID: tenantID, under: masterKey)
    }

    /// Re-wraps a tenant's data key from `old` to `new` master key, for key rotation.
    /// Secrets sealed with the data key stay readable; only the wrapped blob changes.
    public static func rewrap(
        _ wrapped: [UInt8], tenantID: String, from old: MasterKey, to new: MasterKey
    ) throws -> [UInt8] {
        let dataKey = try unwrap(wrapped, tenantID: tenantID, under: old)
        return try wrap(dataKey, tenantID: tenantID, under: new)
    }

    static func associatedData(tenantID: String) throws -> [UInt8] {
        guard !tenantID.isEmpty else {
            throw KeyVaultError(.invalidArgument, "a data key needs a non-empty tenant id")
        }
        return Array(("llmlab-dek:" + tenantID).utf8)
    }

    private static func wrap(_ dataKey: DataKey, tenantID: String, under masterKey: MasterKey) throws -> [UInt8] {
        let keyBytes = dataKey.key.withUnsafeBytes { Array($0) }
        return try EnvelopeFormat.seal(
            keyBytes, key: masterKey.key, associatedData: associatedData(tenantID: tenantID))
    }

    private static func unwrap(_ wrapped: [UInt8], tenantID: String, under masterKey: MasterKey) throws -> DataKey {
        let keyBytes = try EnvelopeFormat.open(
            wrapped, key: masterKey.key, associatedData: associatedData(tenantID: tenantID), what: "wrapped data key")
        guard keyBytes.count == MasterKey.byteCount else {
            throw KeyVaultError(.malformed, "the wrapped data key does not hold a 256-bit key")
        }
        return DataKey(key: .init(data: keyBytes))
    }
}
