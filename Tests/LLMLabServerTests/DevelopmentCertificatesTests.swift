import Foundation
import LLMLabServer
import Testing
import SwiftASN1
import X509

@Suite("Development certificates")
struct DevelopmentCertificatesTests {
    @Test("a CA and a server certificate for localhost, 127.0.0.1 and ::1; keys are 0600; reruns keep them")
    func generate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-tls-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = DevelopmentCertificates(directory: directory)
        #expect(try certificates.ensure())
        #expect(try !certificates.ensure())

        for key in [certificates.paths.caKey, certificates.paths.serverKey] {
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        let ca = try Certificate(pemEncoded: String(contentsOfFile: certificates.paths.caCertificate, encoding: .utf8))
        let server = try Certificate(pemEncoded: String(contentsOfFile: certificates.paths.serverCertificate, encoding: .utf8))
        #expect(server.issuer == ca.subject)
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let names = try #require(try server.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.count == 3)
        #expect(try server.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(ca.publicKey.isValidSignature(server.signature, for: server))
    }

    @Test("a server certificate close to expiry is replaced, the CA kept")
    func renewal() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-tls-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = DevelopmentCertificates(directory: directory)
        try certificates.ensure()
        let ca = try String(contentsOfFile: certificates.paths.caCertificate, encoding: .utf8)
        let server = try String(contentsOfFile: certificates.paths.serverCertificate, encoding: .utf8)
        #expect(try certificates.ensure(now: Date().addingTimeInterval(380 * 86_400)))
        #expect(try String(contentsOfFile: certificates.paths.caCertificate, encoding: .utf8) == ca)
        #expect(try String(contentsOfFile: certificates.paths.serverCertificate, encoding: .utf8) != server)
    }
}
