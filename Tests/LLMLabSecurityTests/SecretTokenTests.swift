import Testing

@testable import LLMLabSecurity

@Suite("SecretToken")
struct SecretTokenTests {
    @Test(
        "issued secrets carry the kind prefix and 43 base62 characters",
        arguments: [(TokenKind.session, "lls_"), (.apiKey, "llk_"), (.operator, "llo_")])
    func shape(kind: TokenKind, prefix: String) {
        let token = SecretToken.issue(kind)
        #expect(kind.prefix == prefix)
        #expect(token.kind == kind)
        #expect(token.secret.hasPrefix(prefix))
        #expect(token.secret.utf8.count == prefix.utf8.count + 43)
        let random = token.secret.dropFirst(prefix.count)
        #expect(random.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(token.displayPrefix == prefix + random.prefix(8))
        #expect(SecretToken.kind(of: token.secret) == kind)
        #expect(token.sha256Hex == SecretToken.sha256Hex(token.secret))
        #expect(token.sha256Hex.count == 64)
        #expect(token.sha256Hex.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test("secrets do not repeat")
    func unique() {
        let secrets = (0..<2000).map { _ in SecretToken.issue(.apiKey).secret }
        #expect(Set(secrets).count == secrets.count)
    }

    @Test("descriptions, debug descriptions and dumps never contain the secret")
    func redacted() {
        let token = SecretToken.issue(.session)
        let random = String(token.secret.dropFirst(4))
        var dumped = ""
        dump(token, to: &dumped)
        for text in [String(describing: token), String(reflecting: token), "\(token)", dumped] {
            #expect(!text.contains(random))
            #expect(!text.contains(random.suffix(20)))
        }
        #expect(String(describing: token).contains(token.displayPrefix))
    }

    @Test("sha256Hex is lowercase hex SHA-256 of the UTF-8 string (FIPS 180-2 'abc' vector)")
    func sha256KnownAnswer() {
        #expect(SecretToken.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecretToken.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("base62 encodes 256-bit values at a fixed width")
    func base62KnownAnswers() {
        #expect(SecretToken.base62([UInt8](repeating: 0, count: 32)) == String(repeating: "0", count: 43))
        #expect(SecretToken.base62([UInt8](repeating: 0xFF, count: 32)) == "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1")
        #expect(SecretToken.base62(Array(0..<32)) == "003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf")
    }

    @Test(
        "kind(of:) rejects anything that is not prefix + 43 base62 characters",
        arguments: [
            "",
            "llk_",
            "llx_" + String(repeating: "a", count: 43),
            "LLK_" + String(repeating: "a", count: 43),
            "llk_" + String(repeating: "a", count: 42),
            "llk_" + String(repeating: "a", count: 44),
            "llk_" + String(repeating: "a", count: 42) + "-",
            "llk_" + String(repeating: "a", count: 42) + "é",
            " llk_" + String(repeating: "a", count: 43),
            "Bearer llk_" + String(repeating: "a", count: 43),
        ])
    func kindRejectsMalformed(_ candidate: String) {
        #expect(SecretToken.kind(of: candidate) == nil)
    }
}
