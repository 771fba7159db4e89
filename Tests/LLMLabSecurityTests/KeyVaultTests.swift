import Foundation
import Testing

@testable import LLMLabSecurity

@Suite("KeyVault")
struct KeyVaultTests {
    let plaintext = "sk-proj-THIS-IS-A-PROVIDER-KEY-1234567890"
    let associatedData = "tenant:acme/key:pk_1"

    @Test("a sealed secret opens with the unwrapped data key")
    func roundTrip() throws {
        let vault = KeyVault(masterKey: .generate())
        let (dataKey, wrapped) = try vault.newDataKey(tenantID: "acme")
        #expect(wrapped.first == 1)
        #expect(wrapped.count == 1 + 12 + 32 + 16)
        let sealed = try dataKey.seal(plaintext, associatedData: associatedData)
        #expect(sealed.first == 1)
        #expect(sealed.count == 1 + 12 + plaintext.utf8.count + 16)
        #expect(!Data(sealed).contains(Data(plaintext.utf8)))

        let reopened = try vault.unwrap(wrapped, tenantID: "acme")
        #expect(try reopened.open(sealed, associatedData: associatedData) == plaintext)
        #expect(try dataKey.open(sealed, associatedData: associatedData) == plaintext)
    }

    @Test("sealing twice gives different ciphertexts (fresh nonce)")
    func freshNonces() throws {
        let vault = KeyVault(masterKey: .generate())
        let (dataKey, _) = try vault.newDataKey(tenantID: "acme")
        let first = try dataKey.seal(plaintext, associatedData: associatedData)
        let second = try dataKey.seal(plaintext, associatedData: associatedData)
        #expect(first != second)
    }

    @Test("changing any byte after the version byte fails authentication")
    func tamperedSealedValueRejected() throws {
        let vault = KeyVault(masterKey: .generate())
        let (dataKey, _) = try vault.newDataKey(tenantID: "acme")
        let sealed = try dataKey.seal(plaintext, associatedData: associatedData)
        for index in 1..<sealed.count {
            var tampered = sealed
            tampered[index] ^= 0x01
            let error = #expect(throws: KeyVaultError.self) {
                try dataKey.open(tampered, associatedData: associatedData)
            }
            #expect(error?.code == .authenticationFailed, "byte \(index)")
            #expect(error.map { !$0.description.contains(plaintext) } ?? false)
        }
    }

    @Test("an unknown version byte or a truncated blob is reported as such")
    func versionAndLength() throws {
        let vault = KeyVault(masterKey: .generate())
        let (dataKey, wrapped) = try vault.newDataKey(tenantID: "acme")
        let sealed = try dataKey.seal(plaintext, associatedData: associatedData)

        var future = sealed
        future[0] = 2
        let futureError = #expect(throws: KeyVaultError.self) { try dataKey.open(future, associatedData: associatedData) }
        #expect(futureError?.code == .unsupportedVersion)
        let versionError = #expect(throws: KeyVaultError.self) { try vault.unwrap([9] + wrapped.dropFirst(), tenantID: "acme") }
        #expect(versionError?.code == .unsupportedVersion)

        for blob in [[], [1], Array(sealed.prefix(28))] as [[UInt8]] {
            let error = #expect(throws: KeyVaultError.self) { try dataKey.open(blob, associatedData: associatedData) }
            #expect(error?.code == .malformed)
        }
        let shortWrapped = #expect(throws: KeyVaultError.self) { try vault.unwrap(Array(wrapped.prefix(20)), tenantID: "acme") }
        #expect(shortWrapped?.code == .malformed)
    }

    @Test(
        "other associated data (another key id or tenant) fails authentication",
        arguments: ["tenant:acme/key:pk_2", "tenant:other/key:pk_1", "tenant:acme/key:pk_1 ", ""])
    func wrongAssociatedDataRejected(_ other: String) throws {
        let vault = KeyVault(masterKey: .generate())
        let (dataKey, _) = try vault.newDataKey(tenantID: "acme")
        let sealed = try dataKey.seal(plaintext, associatedData: associatedData)
        let error = #expect(throws: KeyVaultError.self) { try dataKey.open(sealed, associatedData: other) }
        #expect(error?.code == .authenticationFailed)
    }

    @Test("a data key wrapped for one tenant does not unwrap for another")
    func wrongTenantRejected() throws {
        let vault = KeyVault(masterKey: .generate())
        let (_, wrapped) = try vault.newDataKey(tenantID: "acme")
        let error = #expect(throws: KeyVaultError.self) { try vault.unwrap(wrapped, tenantID: "globex") }
        #expect(error?.code == .authenticationFailed)
        #expect(throws: KeyVaultError.self) { try vault.unwrap(wrapped, tenantID: "acm") }
        let empty = #expect(throws: KeyVaultError.self) { try vault.newDataKey(tenantID: "") }
        #expect(empty?.code == .invalidArgument)
    }

    @Test("another tenant's data key cannot open this tenant's secrets")
    func dataKeysAreIndependent() throws {
        let vault = KeyVault(masterKey: .generate())
        let (acmeKey, _) = try vault.newDataKey(tenantID: "acme")
        let (globexKey, _) = try vault.newDataKey(tenantID: "globex")
        let sealed = try acmeKey.seal(plaintext, associatedData: associatedData)
        #expect(throws: KeyVaultError.self) { try globexKey.open(sealed, associatedData: associatedData) }
    }

    @Test("rewrapping under a new master key keeps secrets readable; the old key no longer unwraps")
    func rewrap() throws {
        let oldKey = MasterKey.generate()
        let newKey = MasterKey.generate()
        #expect(oldKey.fingerprint != newKey.fingerprint)
        let oldVault = KeyVault(masterKey: oldKey)
        let newVault = KeyVault(masterKey: newKey)
        let (dataKey, wrapped) = try oldVault.newDataKey(tenantID: "acme")
        let sealed = try dataKey.seal(plaintext, associatedData: associatedData)

        #expect(throws: KeyVaultError.self) { try newVault.unwrap(wrapped, tenantID: "acme") }
        let rewrapped = try KeyVault.rewrap(wrapped, tenantID: "acme", from: oldKey, to: newKey)
        #expect(rewrapped != wrapped)
        #expect(try newVault.unwrap(rewrapped, tenantID: "acme").open(sealed, associatedData: associatedData) == plaintext)

        let oldError = #expect(throws: KeyVaultError.self) { try oldVault.unwrap(rewrapped, tenantID: "acme") }
        #expect(oldError?.code == .authenticationFailed)
        // Rewrapping with the wrong "old" key or tenant fails instead of producing garbage.
        #expect(throws: KeyVaultError.self) { try KeyVault.rewrap(wrapped, tenantID: "acme", from: newKey, to: oldKey) }
        #expect(throws: KeyVaultError.self) { try KeyVault.rewrap(wrapped, tenantID: "globex", from: oldKey, to: newKey) }
    }

    @Test("master keys load from base64 and reject anything but 32 bytes")
    func masterKeyFromBase64() throws {
        let key = MasterKey.generate()
        let exported = key.exportBase64()
        #expect(try MasterKey(base64: exported).fingerprint == key.fingerprint)
        #expect(try MasterKey(base64: "  \(exported)\n").fingerprint == key.fingerprint)
        // A key from the environment really is used: a blob wrapped by one opens with the other.
        let (_, wrapped) = try KeyVault(masterKey: key).newDataKey(tenantID: "acme")
        _ = try KeyVault(masterKey: MasterKey(base64: exported)).unwrap(wrapped, tenantID: "acme")

        let zeros = try MasterKey(base64: Data(count: 32).base64EncodedString())
        #expect(zeros.fingerprint == "66687aad")  // SHA-256 of 32 zero bytes starts 66687aad

        for bad in ["", "not base64!", Data(count: 16).base64EncodedString(), Data(count: 33).base64EncodedString()] {
            let error = #expect(throws: KeyVaultError.self) { try MasterKey(base64: bad) }
            #expect(error?.code == .invalidMasterKey)
        }
    }

    @Test("key descriptions are redacted")
    func redaction() throws {
        let masterKey = MasterKey.generate()
        let (dataKey, _) = try KeyVault(masterKey: masterKey).newDataKey(tenantID: "acme")
        let exported = masterKey.exportBase64()
        var dumped = ""
        dump(masterKey, to: &dumped)
        dump(dataKey, to: &dumped)
        for text in [String(describing: masterKey), String(reflecting: masterKey), dumped] {
            #expect(!text.contains(exported))
            #expect(!text.contains(exported.prefix(12)))
        }
        #expect(String(describing: masterKey) == "MasterKey(fingerprint: \(masterKey.fingerprint))")
        #expect(String(describing: dataKey) == "DataKey(redacted)")
        #expect(String(reflecting: dataKey) == "DataKey(redacted)")
        #expect(!dumped.contains("sb"))
    }
}
