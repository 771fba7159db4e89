import CArgon2

/// The only place that calls libargon2. Keeping the C calls here means the rest of the
/// module deals in Swift values and typed errors, and the known-answer tests can reach the
/// raw function with an explicit salt.
enum Argon2id {
    /// Cost parameters of one argon2id computation, as they appear in a PHC string.
    struct Parameters: Sendable, Hashable {
        var memoryKiB: UInt32
        var iterations: UInt32
        var parallelism: UInt32
    }

    /// The raw argon2id tag for `password` and `salt`. Exposed (internally) for the
    /// reference-vector tests; production code stores PHC strings, never raw tags.
    static func rawHash(
        password: [UInt8], salt: [UInt8], parameters: Parameters, hashLength: Int
    ) throws(PasswordHashingError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: hashLength)
        let status = password.withUnsafeBytes { pwd in
            salt.withUnsafeBytes { saltBytes in
                output.withUnsafeMutableBytes { out in
                    argon2id_hash_raw(
                        parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                        pwd.baseAddress, pwd.count,
                        saltBytes.baseAddress, saltBytes.count,
                        out.baseAddress, out.count)
                }
            }
        }
        guard status == ARGON2_OK.rawValue else { throw .library(status) }
        return output
    }

    /// The PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) for `password` and `salt`,
    /// formatted by libargon2 itself so the output is byte-for-byte the reference format.
    static func encodedHash(
        password: [UInt8], salt: [UInt8], parameters: Parameters, hashLength: Int
    ) throws(PasswordHashingError) -> String {
        let capacity = argon2_encodedlen(
            parameters.iterations, parameters.memoryKiB, parameters.parallelism,
            UInt32(salt.count), UInt32(hashLength), Argon2_id)
        var buffer = [CChar](repeating: 0, count: capacity)
        let status = password.withUnsafeBytes { pwd in
            salt.withUnsafeBytes { saltBytes in
                buffer.withUnsafeMutableBufferPointer { encoded in
                    argon2id_hash_encoded(
                        parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                        pwd.baseAddress, pwd.count,
                        saltBytes.baseAddress, saltBytes.count,
                        hashLength, encoded.baseAddress, encoded.count)
                }
            }
        }
        guard status == ARGON2_OK.rawValue else { throw .library(status) }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `password` matches the PHC string. libargon2 recomputes the tag and compares
    /// it in constant time. Callers must have validated `encoded` (see `PHCString`) first:
    /// libargon2 allocates whatever memory the string asks for.
    static func verify(password: [UInt8], encoded: String) throws(PasswordHashingError) -> Bool {
        let status = password.withUnsafeBytes { pwd in
            encoded.withCString { phc in
                argon2id_verify(phc, pwd.baseAddress, pwd.count)
            }
        }
        switch status {
        case ARGON2_OK.rawValue: return true
        case ARGON2_VERIFY_MISMATCH.rawValue: return false
        case ARGON2_DECODING_FAIL.rawValue, ARGON2_DECODING_LENGTH_FAIL.rawValue:
            throw PasswordHashingError(.malformedHash, "the stored password hash is not a valid argon2id PHC string")
        default: throw .library(status)
        }
    }

    /// libargon2's fixed English message for a status code (never contains inputs).
    static func message(for status: Int32) -> String {
        guard let text = argon2_error_message(status) else { return "unknown argon2 error \(status)" }
        return String(cString: text)
    }
}
