import Crypto

/// A tenant's data key: seals that tenant's provider keys with AES-256-GCM. It exists only
/// in memory; at rest it is stored wrapped by the master key (see `KeyVault`).
/// Descriptions are redacted.
public struct DataKey: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    // @unchecked: `SymmetricKey` is not marked Sendable in swift-crypto 3.x, but it is an
    // immutable value (a `let` over copy-on-write storage it never mutates after init).
    let key: SymmetricKey

    init(key: SymmetricKey) {
        self.key = key
    }

    /// Encrypts `plaintext` bound to `associatedData`; returns
    /// `[version][nonce][ciphertext][tag]`. Call sites pass
    /// `"tenant:<tenantID>/key:<providerKeyID>"`, so a blob copied to another row or tenant
    /// fails to open.
    public func seal(_ plaintext: String, associatedData: String) throws -> [UInt8] {
        try EnvelopeFormat.seal(Array(plaintext.utf8), key: key, associatedData: Array(associatedData.utf8))
    }

    /// Decrypts a blob from `seal` with the same associated data. Throws `KeyVaultError`
    /// `.authenticationFailed` if anything differs, `.malformed` or `.unsupportedVersion`.
    public func open(_ sealed: [UInt8], associatedData: String) throws -> String {
        let bytes = try EnvelopeFormat.open(
            sealed, key: key, associatedData: Array(associatedData.utf8), what: "sealed value")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KeyVaultError(.malformed, "the sealed value is not UTF-8 text")
        }
        return text
    }

    public var description: String { "DataKey(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:], displayStyle: .struct) }
}
