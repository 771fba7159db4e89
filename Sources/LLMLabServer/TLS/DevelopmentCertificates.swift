public import Foundation
import Crypto
import SwiftASN1
import X509

/// A development CA and a server certificate signed by it, created under
/// `$LLMLAB_HOME/tls` on first run so that TLS is on from the first `make run`. The CLI
/// trusts `ca.pem`; production deployments pass their own certificate and key instead.
public struct DevelopmentCertificates: Sendable {
    public struct Paths: Sendable, Hashable {
        public var directory: String
        public var caCertificate: String { directory + "/ca.pem" }
        public var caKey: String { directory + "/ca-key.pem" }
        public var serverCertificate: String { directory + "/server.pem" }
        public var serverKey: String { directory + "/server-key.pem" }

        public init(directory: String) { self.directory = directory }
    }

    public let paths: Paths

    public init(directory: String) {
        self.paths = Paths(directory: directory)
    }

    /// Creates what is missing: the CA when absent, the server certificate when absent or
    /// within 30 days of expiry. Keys are written with mode 0600.
    /// - Returns: whether anything was created.
    @discardableResult
    public func ensure(now: Date = Date()) throws -> Bool {
        let files = FileManager.default
        try files.createDirectory(atPath: paths.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var created = false
        let caKey: P256.Signing.PrivateKey
        let caCert: Certificate
        if files.fileExists(atPath: paths.caCertificate), files.fileExists(atPath: paths.caKey) {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: paths.caKey, encoding: .utf8))
            caCert = try Certificate(pemEncoded: String(contentsOfFile: paths.caCertificate, encoding: .utf8))
        } else {
            (caKey, caCert) = try Self.makeCA(now: now)
            try Self.write(caKey.pemRepresentation, to: paths.caKey, mode: 0o600)
            try Self.write(try caCert.serializeAsPEM().pemString, to: paths.caCertificate, mode: 0o644)
            try? files.removeItem(atPath: paths.serverCertificate)
            created = true
        }
        if try needsServerCertificate(now: now) {
            let (key, cert) = try Self.makeServerCertificate(caKey: caKey, caCert: caCert, now: now)
            try Self.write(key.pemRepresentation, to: paths.serverKey, mode: 0o600)
            try Self.write(try cert.serializeAsPEM().pemString, to: paths.serverCertificate, mode: 0o644)
            created = true
        }
        return created
    }

    private func needsServerCertificate(now: Date) throws -> Bool {
        let files = FileManager.default
        guard files.fileExists(atPath: paths.serverCertificate), files.fileExists(atPath: paths.serverKey) else { return true }
        let cert = try Certificate(pemEncoded: String(contentsOfFile: paths.serverCertificate, encoding: .utf8))
        return cert.notValidAfter < now.addingTimeInterval(30 * 86_400)
    }

    static func makeCA(now: Date) throws -> (P256.Signing.PrivateKey, Certificate) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("LLMLab")
            CommonName("LLMLab development CA")
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return (key, cert)
    }

    static func makeServerCertificate(
        caKey: P256.Signing.PrivateKey, caCert: Certificate, now: Date
    ) throws -> (P256.Signing.PrivateKey, Certificate) {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("LLMLab")
            CommonName("localhost")
        }
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(397 * 86_400),
            issuer: caCert.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        return (key, cert)
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw ServerError("cannot write \(path): check that the directory is writable")
        }
        guard rename(temporary, path) == 0 else {
            throw ServerError("cannot move \(temporary) to \(path): check that the directory is writable")
        }
    }
}
