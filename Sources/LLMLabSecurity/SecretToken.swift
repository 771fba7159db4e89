import Crypto

/// Issues and recognises LLMLab bearer secrets (sessions, API keys, the operator token).
///
/// Each secret is 256 bits from the system CSPRNG, written in base62 so it survives
/// copy-paste, URLs and double-click selection, behind a kind prefix (`llk_`, …).
/// The server stores only the SHA-256: a stolen database does not yield usable secrets,
/// and a secret with 256 bits of entropy needs no slow hash.
public enum SecretToken {
    /// Random bytes per secret.
    static let randomByteCount = 32
    /// Base62 digits that always hold 256 bits (62^43 > 2^256), so every secret of a kind
    /// has the same length.
    static let encodedLength = 43
    /// Random characters repeated in `IssuedToken.displayPrefix`.
    static let displayedCharacters = 8

    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new secret of `kind`, with its display prefix and storage hash.
    public static func issue(_ kind: TokenKind) -> IssuedToken {
        let random = base62(SecureRandom.bytes(count: randomByteCount))
        return IssuedToken(kind: kind, secret: kind.prefix + random)
    }

    /// Lowercase hex SHA-256 of the secret's UTF-8 bytes: the lookup key for a presented secret.
    public static func sha256Hex(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).hexString
    }

    /// The kind of a well-formed secret: the right prefix followed by exactly 43 base62
    /// characters. Anything else is `nil`, so garbage is rejected before a database lookup.
    public static func kind(of secret: String) -> TokenKind? {
        let bytes = Array(secret.utf8)
        for kind in TokenKind.allCases {
            let prefix = Array(kind.prefix.utf8)
            guard bytes.count == prefix.count + encodedLength, bytes.starts(with: prefix) else { continue }
            guard bytes[prefix.count...].allSatisfy(isBase62) else { return nil }
            return kind
        }
        return nil
    }

    private static func isBase62(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"):
            true
        default: false
        }
    }

    /// Big-endian `bytes` as exactly `encodedLength` base62 digits (leading zeros kept).
    static func base62(_ bytes: [UInt8]) -> String {
        var number = bytes
        var digits = [UInt8]()
        digits.reserveCapacity(encodedLength)
        for _ in 0..<encodedLength {
            var remainder = 0
            var quotient = [UInt8]()
            quotient.reserveCapacity(number.count)
            for byte in number {
                let accumulator = remainder * 256 + Int(byte)
                let digit = accumulator / 62
                remainder = accumulator % 62
                if !quotient.isEmpty || digit != 0 { quotient.append(UInt8(digit)) }
            }
            digits.append(alphabet[remainder])
            number = quotient
        }
        precondition(number.isEmpty, "base62 width too small for the input")
        return String(decoding: digits.reversed(), as: UTF8.self)
    }
}
