import Dispatch

/// Hashes and verifies user passwords with argon2id (libargon2) in PHC string format.
///
/// It exists so that every password in LLMLab is stored the same way (OWASP parameters,
/// per-password random salt), verified in constant time, and never hashed more than
/// `maxConcurrentHashes` at a time: each computation holds `memoryKiB` of memory, so a
/// login burst is queued instead of exhausting the server.
///
/// The computation runs on a Dispatch thread rather than the cooperative pool, so a
/// queue of logins does not stall other async work while argon2 burns CPU.
public struct PasswordHasher: Sendable {
    /// Cost parameters and limits. The defaults follow OWASP's argon2id recommendation
    /// (19 MiB, 2 iterations, 1 lane).
    public struct Configuration: Sendable, Hashable {
        public var memoryKiB: UInt32
        public var iterations: UInt32
        public var parallelism: UInt32
        public var saltLength: Int
        public var hashLength: Int
        /// Argon2 computations allowed in flight at once; others wait in FIFO order.
        public var maxConcurrentHashes: Int
        /// Highest `m=` a stored hash may ask for before `verify` refuses it. Stored hashes
        /// may be stronger than the current configuration (after a parameter upgrade) but
        /// not absurdly so; never more than `absoluteMaxMemoryKiB`.
        public var maxAcceptedMemoryKiB: UInt32
        /// Highest `t=` a stored hash may ask for.
        public var maxAcceptedIterations: UInt32
        /// Highest `p=` a stored hash may ask for.
        public var maxAcceptedParallelism: UInt32

        /// 1 GiB: no stored hash may ever make the server allocate more than this.
        public static let absoluteMaxMemoryKiB: UInt32 = 1 << 20

        public init(
            memoryKiB: UInt32 = 19_456,
            iterations: UInt32 = 2,
            parallelism: UInt32 = 1,
            saltLength: Int = 16,
            hashLength: Int = 32,
            maxConcurrentHashes: Int = 2,
            maxAcceptedMemoryKiB: UInt32 = 262_144,
            maxAcceptedIterations: UInt32 = 16,
            maxAcceptedParallelism: UInt32 = 8
        ) {
            self.memoryKiB = memoryKiB
            self.iterations = iterations
            self.parallelism = parallelism
            self.saltLength = saltLength
            self.hashLength = hashLength
            self.maxConcurrentHashes = maxConcurrentHashes
            self.maxAcceptedMemoryKiB = maxAcceptedMemoryKiB
            self.maxAcceptedIterations = maxAcceptedIterations
            self.maxAcceptedParallelism = maxAcceptedParallelism
        }

        public static let defaults = Configuration()

        var parameters: Argon2id.Parameters {
            Argon2id.Parameters(memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism)
        }
    }

    /// Longest password accepted, in UTF-8 bytes. Longer input is rejected before hashing so
    /// that an attacker cannot make each attempt arbitrarily expensive.
    public static let maxPasswordBytes = 1024

    public let configuration: Configuration
    /// Shared by copies of this hasher: the bound is per `PasswordHasher` instance created
    /// with `init`, so the server should create one and pass it around.
    let limiter: AsyncSemaphore

    public init(configuration: Configuration = .defaults) {
        precondition(configuration.maxConcurrentHashes >= 1, "maxConcurrentHashes must be at least 1")
        precondition(
            PHCString.saltLengths.contains(configuration.saltLength)
                && PHCString.hashLengths.contains(configuration.hashLength),
            "saltLength must be 8...64 and hashLength 16...64")
        self.configuration = configuration
        self.limiter = AsyncSemaphore(limit: configuration.maxConcurrentHashes)
    }

    /// Hashes `password` with a fresh 16-byte salt and returns the PHC string to store.
    /// Throws `PasswordHashingError` (`.passwordTooLong`, `.libraryFailure`) or
    /// `CancellationError` if the task is cancelled while waiting for a slot.
    public func hash(_ password: String) async throws -> String {
        let bytes = try Self.bytes(of: password)
        let salt = SecureRandom.bytes(count: configuration.saltLength)
        let parameters = configuration.parameters
        let hashLength = configuration.hashLength
        return try await limiter.withPermit {
            try await Self.offPool {
                try Argon2id.encodedHash(password: bytes, salt: salt, parameters: parameters, hashLength: hashLength)
            }
        }
    }

    /// Whether `password` matches the stored PHC string, compared in constant time.
    /// A malformed, non-argon2id or overly expensive stored hash throws rather than
    /// returning `false`, so that corruption is noticed instead of looking like a typo.
    public func verify(_ password: String, against phc: String) async throws -> Bool {
        let bytes = try Self.bytes(of: password)
        let parsed = try PHCString(parsing: phc)
        try checkAffordable(parsed.parameters)
        return try await limiter.withPermit {
            try await Self.offPool { try Argon2id.verify(password: bytes, encoded: phc) }
        }
    }

    /// Spends the same time as `verify` against a hash made with this configuration, for a
    /// login whose account does not exist, so response timing does not reveal which
    /// accounts exist. Takes a slot like a real verification. A password over the length
    /// limit returns at once, just as `verify` throws at once for it.
    public func verifyDummy(_ password: String) async {
        guard let bytes = try? Self.bytes(of: password) else { return }
        let configuration = self.configuration
        _ = try? await limiter.withPermit {
            try await Self.offPool {
                if configuration == .defaults {
                    _ = try Argon2id.verify(password: bytes, encoded: Self.defaultDummyPHC)
                } else {
                    // Same cost as verifying a hash made with this configuration:
                    // verification is one hash computation plus a comparison.
                    _ = try Argon2id.rawHash(
                        password: bytes, salt: Self.dummySalt, parameters: configuration.parameters,
                        hashLength: configuration.hashLength)
                }
            }
        }
    }

    /// A hash of a password no user has, made with the default configuration
    /// (`argon2 llmlab.dummy.slt -id -t 2 -k 19456 -p 1 -l 32`). Matches nothing real.
    static let defaultDummyPHC =
        "$argon2id$v=19$m=19456,t=2,p=1$bGxtbGFiLmR1bW15LnNsdA$QCvfhzJcIxZeuKJj11wGVigxQMd6GBK1BesewKNfg0I"
    static let dummySalt = Array("llmlab.dummy.slt".utf8)

    private func checkAffordable(_ parameters: Argon2id.Parameters) throws(PasswordHashingError) {
        let memoryCeiling = min(configuration.maxAcceptedMemoryKiB, Configuration.absoluteMaxMemoryKiB)
        guard parameters.memoryKiB <= memoryCeiling,
            parameters.iterations <= configuration.maxAcceptedIterations,
            parameters.parallelism <= configuration.maxAcceptedParallelism
        else {
            throw PasswordHashingError(
                .parametersTooExpensive,
                "the stored password hash asks for m=\(parameters.memoryKiB),t=\(parameters.iterations),"
                    + "p=\(parameters.parallelism), above this server's limits (m<=\(memoryCeiling),"
                    + "t<=\(configuration.maxAcceptedIterations),p<=\(configuration.maxAcceptedParallelism)); "
                    + "reset the password or raise the limits in the configuration")
        }
    }

    private static func bytes(of password: String) throws(PasswordHashingError) -> [UInt8] {
        let bytes = Array(password.utf8)
        guard bytes.count <= maxPasswordBytes else {
            throw PasswordHashingError(
                .passwordTooLong, "the password is longer than \(maxPasswordBytes) bytes; choose a shorter one")
        }
        return bytes
    }

    /// Runs blocking, CPU-bound work on a Dispatch thread and resumes with its result.
    private static func offPool<Result: Sendable>(
        _ work: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Swift.Result { try work() })
            }
        }
    }
}
