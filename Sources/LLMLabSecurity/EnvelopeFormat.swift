import Crypto
import Foundation

/// The byte layout shared by wrapped data keys and sealed values:
/// `[version][12-byte nonce][ciphertext][16-byte tag]`. The leading version byte lets a
/// later release change algorithm or layout while still reading what is stored today.
enum EnvelopeFormat {
    static let version1: UInt8 = 1
    static let nonceLength = 12
    static let tagLength = 16

    static func seal(_ plaintext: [UInt8], key: SymmetricKey, associatedData: [UInt8]) throws -> [UInt8] {
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(plaintext, using: key, authenticating: associatedData)
        } catch {
            throw KeyVaultError(.malformed, "AES-GCM sealing failed")
        }
        guard let combined = box.combined else {
            throw KeyVaultError(.malformed, "AES-GCM produced no combined representation")
        }
        return [version1] + Array(combined)
    }

    static func open(_ blob: [UInt8], key: SymmetricKey, associatedData: [UInt8], what: String) throws -> [UInt8] {
        guard let version = blob.first else {
            throw KeyVaultError(.malformed, "the \(what) is empty")
        }
        guard version == version1 else {
            throw KeyVaultError(
                .unsupportedVersion, "the \(what) has format version \(version); this build reads version \(version1)")
        }
        guard blob.count >= 1 + nonceLength + tagLength else {
            throw KeyVaultError(.malformed, "the \(what) is too short to be AES-GCM output")
        }
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(combined: blob.dropFirst())
        } catch {
            throw KeyVaultError(.malformed, "the \(what) is not AES-GCM output")
        }
        do {
            return Array(try AES.GCM.open(box, using: key, authenticating: associatedData))
        } catch {
            throw KeyVaultError(
                .authenticationFailed,
                "the \(what) failed authentication: it was altered, belongs to another tenant or key, "
                    + "or was sealed under a different key")
        }
    }
}
