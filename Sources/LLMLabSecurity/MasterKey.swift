import Crypto
import Foundation

/// The server's root key. It never encrypts data directly: it wraps one data key per
/// tenant (see `KeyVault`), so rotating it means rewrapping a few small blobs rather than
/// re-encrypting every stored secret.
///
/// It comes from `LLMLAB_MASTER_KEY` (base64) or from a file created with mode 0600 on
/// first run. Descriptions show only the fingerprint.
public struct MasterKey: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    // @unchecked: `SymmetricKey` is not marked Sendable in swift-crypto 3.x, but it is an
    // immutable value (a `let` over copy-on-write storage it never mutates after init), so
    // sharing it across tasks is safe.
    let key: SymmetricKey

    static let byteCount = 32

    init(key: SymmetricKey) {
        self.key = key
    }

    /// A new random 256-bit key.
    public static func generate() -> MasterKey {
        MasterKey(key: SymmetricKey(size: .bits256))
    }

    /// A key given as base64 of 32 bytes (surrounding whitespace ignored), as in
    /// `LLMLAB_MASTER_KEY`. Throws `KeyVaultError` `.invalidMasterKey` otherwise.
    public init(base64: String) throws {
        let trimmed = base64.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: trimmed), data.count == Self.byteCount else {
            throw KeyVaultError(
                .invalidMasterKey,
                "the master key must be base64 of exactly \(Self.byteCount) bytes; "
                    + "generate one with `head -c 32 /dev/urandom | base64`")
        }
        self.key = SymmetricKey(data: data)
    }

    /// The key as base64, for handing a generated key to an operator or a secret store.
    /// Named explicitly so exporting key material is never an accident.
    public func exportBase64() -> String {
        key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// First 8 hex digits of SHA-256 of the key: tells keys apart in logs and in stored
    /// blobs' metadata without revealing anything useful about the key.
    public var fingerprint: String {
        key.withUnsafeBytes { String(SHA256.hash(data: $0).hexString.prefix(8)) }
    }

    public var description: String { "MasterKey(fingerprint: \(fingerprint))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["fingerprint": fingerprint], displayStyle: .struct)
    }
}
