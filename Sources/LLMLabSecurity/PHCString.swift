import Foundation

/// A parsed `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` string. Stored hashes are parsed
/// before they reach libargon2 so that a malformed row is reported as an error instead of
/// being handed to C code, and so that its cost parameters can be checked against limits
/// (libargon2 would allocate whatever `m=` says).
struct PHCString: Sendable, Hashable {
    var parameters: Argon2id.Parameters
    var salt: [UInt8]
    var hash: [UInt8]

    /// Longest PHC string accepted; a 64-byte salt and hash with 10-digit parameters fit well.
    static let maxEncodedLength = 256
    static let saltLengths = 8...64
    static let hashLengths = 16...64

    init(parsing text: String) throws(PasswordHashingError) {
        guard text.utf8.count <= Self.maxEncodedLength, text.utf8.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) else {
            throw Self.malformed("it is too long or contains characters outside printable ASCII")
        }
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0].isEmpty else {
            throw Self.malformed("expected 5 fields separated by '$'")
        }
        guard fields[1] == "argon2id" else {
            throw PasswordHashingError(
                .unsupportedAlgorithm, "the stored password hash is not argon2id; reset the password to rehash it")
        }
        guard fields[2] == "v=19" else {
            throw PasswordHashingError(
                .unsupportedAlgorithm,
                "the stored password hash is not argon2 version 19; reset the password to rehash it")
        }
        let costs = fields[3].split(separator: ",", omittingEmptySubsequences: false)
        guard costs.count == 3,
            let memory = Self.number(costs[0], key: "m"),
            let iterations = Self.number(costs[1], key: "t"),
            let parallelism = Self.number(costs[2], key: "p")
        else {
            throw Self.malformed("expected cost parameters in the form m=<KiB>,t=<iterations>,p=<lanes>")
        }
        // argon2's own minimums: at least one pass, one lane, and 8 KiB per lane.
        guard iterations >= 1, parallelism >= 1, UInt64(memory) >= 8 * UInt64(parallelism) else {
            throw Self.malformed("the cost parameters are below argon2's minimums (t>=1, p>=1, m>=8*p)")
        }
        guard let salt = Self.decodeBase64(fields[4]), Self.saltLengths.contains(salt.count) else {
            throw Self.malformed("the salt is not unpadded base64 of 8 to 64 bytes")
        }
        guard let hash = Self.decodeBase64(fields[5]), Self.hashLengths.contains(hash.count) else {
            throw Self.malformed("the hash is not unpadded base64 of 16 to 64 bytes")
        }
        self.parameters = Argon2id.Parameters(memoryKiB: memory, iterations: iterations, parallelism: parallelism)
        self.salt = salt
        self.hash = hash
    }

    private static func malformed(_ why: String) -> PasswordHashingError {
        PasswordHashingError(.malformedHash, "the stored password hash is not a valid argon2id PHC string: \(why)")
    }

    /// `key=<decimal>` with no sign, no leading zero and a value that fits `UInt32`.
    private static func number(_ field: Substring, key: String) -> UInt32? {
        guard field.hasPrefix(key + "=") else { return nil }
        let digits = field.dropFirst(key.count + 1)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits == "0" || digits.first != "0"
        else { return nil }
        return UInt32(digits)
    }

    /// PHC strings use the standard base64 alphabet without `=` padding.
    private static func decodeBase64(_ field: Substring) -> [UInt8]? {
        guard !field.isEmpty, !field.contains("="), field.count % 4 != 1 else { return nil }
        let padded = String(field) + String(repeating: "=", count: (4 - field.count % 4) % 4)
        guard let data = Data(base64Encoded: padded) else { return nil }
        return [UInt8](data)
    }
}
