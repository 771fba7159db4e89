import Foundation
import Testing

@testable import LLMLabSecurity

/// A fresh directory per test, removed afterwards.
private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("llmlab-security-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try body(directory)
}

private func mode(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

@Suite("MasterKey file")
struct MasterKeyFileTests {
    @Test("a missing file is created with mode 0600 and base64 + newline, and reloads to the same key")
    func createsFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/home/master.key"
            let created = try MasterKey.loadOrCreate(file: path)
            #expect(try mode(of: path) == 0o600)
            let contents = try String(contentsOfFile: path, encoding: .utf8)
            #expect(contents.hasSuffix("\n"))
            #expect(Data(base64Encoded: String(contents.dropLast()))?.count == 32)
            #expect(contents == created.exportBase64() + "\n")

            let reloaded = try MasterKey.loadOrCreate(file: path)
            #expect(reloaded.fingerprint == created.fingerprint)
            let (_, wrapped) = try KeyVault(masterKey: created).newDataKey(tenantID: "acme")
            _ = try KeyVault(masterKey: reloaded).unwrap(wrapped, tenantID: "acme")
        }
    }

    @Test("a file group or others can access is refused with a chmod hint", arguments: [0o644, 0o640, 0o604, 0o660, 0o602])
    func refusesExposedFile(permissions: Int) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/master.key"
            let original = try MasterKey.loadOrCreate(file: path)
            try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
            let error = #expect(throws: KeyVaultError.self) { try MasterKey.loadOrCreate(file: path) }
            #expect(error?.code == .masterKeyFilePermissions)
            #expect(error?.description.contains("chmod 600 \(path)") == true)
            #expect(error.map { !$0.description.contains(original.exportBase64()) } ?? false)
            // The file is left alone, not replaced with a new key.
            #expect(try String(contentsOfFile: path, encoding: .utf8) == original.exportBase64() + "\n")

            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            #expect(try MasterKey.loadOrCreate(file: path).fingerprint == original.fingerprint)
        }
    }

    @Test("an owner-read-only file (0400) is accepted")
    func acceptsReadOnly() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/master.key"
            let original = try MasterKey.loadOrCreate(file: path)
            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
            #expect(try MasterKey.loadOrCreate(file: path).fingerprint == original.fingerprint)
        }
    }

    @Test("a file that does not hold a 32-byte base64 key is refused, not overwritten")
    func refusesGarbage() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory + "/master.key"
            #expect(FileManager.default.createFile(
                atPath: path, contents: Data("c2hvcnQ=\n".utf8), attributes: [.posixPermissions: 0o600]))
            let error = #expect(throws: KeyVaultError.self) { try MasterKey.loadOrCreate(file: path) }
            #expect(error?.code == .invalidMasterKey)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "c2hvcnQ=\n")
        }
    }

    @Test("a directory at the key path is refused")
    func refusesDirectory() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/master.key"
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let error = #expect(throws: KeyVaultError.self) { try MasterKey.loadOrCreate(file: path) }
            #expect(error?.code == .masterKeyFile)
        }
    }
}
