import Foundation
import Testing

@testable import LLMLabSecurity

/// Reference vectors: phc-winner-argon2 `src/test.c`, Argon2id, version 0x13, each value
/// re-checked with the Debian `argon2` CLI (`echo -n <pwd> | argon2 <salt> -id -t T -m M -p P`).
struct Argon2Vector: Sendable, CustomTestStringConvertible {
    var password: String
    var salt: String
    var iterations: UInt32
    var memoryKiB: UInt32
    var parallelism: UInt32
    var rawHex: String
    var encoded: String

    var testDescription: String { "\(password)/\(salt) t=\(iterations) m=\(memoryKiB) p=\(parallelism)" }
}

let argon2idReferenceVectors: [Argon2Vector] = [
    Argon2Vector(
        password: "password", salt: "somesalt", iterations: 2, memoryKiB: 1 << 16, parallelism: 1,
        rawHex: "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7",
        encoded: "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"),
    Argon2Vector(
        password: "password", salt: "somesalt", iterations: 2, memoryKiB: 1 << 8, parallelism: 2,
        rawHex: "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037",
        encoded: "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"),
    Argon2Vector(
        password: "password", salt: "somesalt", iterations: 1, memoryKiB: 1 << 16, parallelism: 1,
        rawHex: "f6a5adc1ba723dddef9b5ac1d464e180fcd9dffc9d1cbf76cca2fed795d9ca98",
        encoded: "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg"),
    Argon2Vector(
        password: "password", salt: "somesalt", iterations: 4, memoryKiB: 1 << 16, parallelism: 1,
        rawHex: "9025d48e68ef7395cca9079da4c4ec3affb3c8911fe4f86d1a2520856f63172c",
        encoded: "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$kCXUjmjvc5XMqQedpMTsOv+zyJEf5PhtGiUghW9jFyw"),
    Argon2Vector(
        password: "differentpassword", salt: "somesalt", iterations: 2, memoryKiB: 1 << 16, parallelism: 1,
        rawHex: "0b84d652cf6b0c4beaef0dfe278ba6a80df6696281d7e0d2891b817d8c458fde",
        encoded: "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"),
    Argon2Vector(
        password: "password", salt: "diffsalt", iterations: 2, memoryKiB: 1 << 16, parallelism: 1,
        rawHex: "bdf32b05ccc42eb15d58fd19b1f856b113da1e9a5874fdcc544308565aa8141c",
        encoded: "$argon2id$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$vfMrBczELrFdWP0ZsfhWsRPaHppYdP3MVEMIVlqoFBw"),
]

/// Cheap parameters for tests that exercise behaviour rather than the production cost.
let fastConfiguration = PasswordHasher.Configuration(memoryKiB: 1024, iterations: 1, maxConcurrentHashes: 2)

@Suite("PasswordHasher", .timeLimit(.minutes(2)))
struct PasswordHasherTests {
    @Test("raw argon2id matches the reference implementation", arguments: argon2idReferenceVectors)
    func rawHashMatchesReference(_ vector: Argon2Vector) throws {
        let raw = try Argon2id.rawHash(
            password: Array(vector.password.utf8), salt: Array(vector.salt.utf8),
            parameters: .init(memoryKiB: vector.memoryKiB, iterations: vector.iterations, parallelism: vector.parallelism),
            hashLength: 32)
        #expect(raw.hexString == vector.rawHex)
    }

    @Test("encoded argon2id matches the reference PHC string", arguments: argon2idReferenceVectors)
    func encodedHashMatchesReference(_ vector: Argon2Vector) throws {
        let encoded = try Argon2id.encodedHash(
            password: Array(vector.password.utf8), salt: Array(vector.salt.utf8),
            parameters: .init(memoryKiB: vector.memoryKiB, iterations: vector.iterations, parallelism: vector.parallelism),
            hashLength: 32)
        #expect(encoded == vector.encoded)
    }

    @Test("verify accepts reference PHC strings and rejects other passwords", arguments: argon2idReferenceVectors)
    func verifiesReferenceStrings(_ vector: Argon2Vector) async throws {
        let hasher = PasswordHasher()
        #expect(try await hasher.verify(vector.password, against: vector.encoded))
        #expect(try await !hasher.verify(vector.password + "!", against: vector.encoded))
    }

    @Test("hash produces a default-parameter PHC string that verifies")
    func roundTrip() async throws {
        let hasher = PasswordHasher()
        let phc = try await hasher.hash("correct horse battery staple")
        #expect(phc.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        let parsed = try PHCString(parsing: phc)
        #expect(parsed.salt.count == 16)
        #expect(parsed.hash.count == 32)
        #expect(try await hasher.verify("correct horse battery staple", against: phc))
        #expect(try await !hasher.verify("correct horse battery stapl", against: phc))
        #expect(try await !hasher.verify("", against: phc))
    }

    @Test("non-ASCII passwords round-trip as UTF-8")
    func unicodeRoundTrip() async throws {
        let hasher = PasswordHasher(configuration: fastConfiguration)
        let phc = try await hasher.hash("pässwörd-密码-🔑")
        #expect(try await hasher.verify("pässwörd-密码-🔑", against: phc))
        #expect(try await !hasher.verify("passwörd-密码-🔑", against: phc))
    }

    @Test("two hashes of one password differ (random salt) and both verify")
    func saltsDiffer() async throws {
        let hasher = PasswordHasher(configuration: fastConfiguration)
        let first = try await hasher.hash("same password")
        let second = try await hasher.hash("same password")
        #expect(first != second)
        #expect(try PHCString(parsing: first).salt != PHCString(parsing: second).salt)
        #expect(try await hasher.verify("same password", against: first))
        #expect(try await hasher.verify("same password", against: second))
    }

    @Test("a hash made by the argon2 CLI with default parameters verifies")
    func interoperatesWithCLI() async throws {
        let hasher = PasswordHasher()
        #expect(try await hasher.verify("llmlab-dummy-password-not-a-user", against: PasswordHasher.defaultDummyPHC))
    }

    @Test(
        "malformed or foreign PHC strings throw malformedHash or unsupportedAlgorithm",
        arguments: [
            ("", PasswordHashingError.Code.malformedHash),
            ("not a hash", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc$", .malformedHash),
            ("$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=-1,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=065536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=65536,t=0,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc=", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29t$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFh", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNh!HQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPP\u{0}", .malformedHash),
            ("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA", .unsupportedAlgorithm),
            ("$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .unsupportedAlgorithm),
            ("$argon2id$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", .malformedHash),
            ("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", .malformedHash),
        ])
    func malformedPHCThrows(_ phc: String, _ expected: PasswordHashingError.Code) async {
        let hasher = PasswordHasher(configuration: fastConfiguration)
        let error = await #expect(throws: PasswordHashingError.self) {
            try await hasher.verify("password", against: phc)
        }
        #expect(error?.code == expected)
        // The stored hash is never echoed back in the message.
        if phc.count > 20 { #expect(error.map { !$0.description.contains(phc) } ?? false) }
    }

    @Test(
        "stored hashes that ask for excessive memory, time or lanes are refused before hashing",
        arguments: [
            "$argon2id$v=19$m=2097152,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=524288,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=65536,t=1000,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=65536,t=2,p=64$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        ])
    func expensiveParametersRefused(_ phc: String) async {
        let hasher = PasswordHasher()
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: PasswordHashingError.self) {
            try await hasher.verify("password", against: phc)
        }
        #expect(error?.code == .parametersTooExpensive)
        #expect(clock.now - start < .seconds(1))
    }

    @Test("memory ceiling never exceeds 1 GiB even if configured higher")
    func absoluteMemoryCeiling() async {
        var configuration = PasswordHasher.Configuration()
        configuration.maxAcceptedMemoryKiB = .max
        let hasher = PasswordHasher(configuration: configuration)
        let error = await #expect(throws: PasswordHashingError.self) {
            try await hasher.verify(
                "password",
                against: "$argon2id$v=19$m=1048577,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
        }
        #expect(error?.code == .parametersTooExpensive)
    }

    @Test("passwords over 1024 bytes are rejected and never appear in the error")
    func passwordLengthLimit() async throws {
        let hasher = PasswordHasher(configuration: fastConfiguration)
        let atLimit = String(repeating: "k", count: 1024)
        let phc = try await hasher.hash(atLimit)
        #expect(try await hasher.verify(atLimit, against: phc))

        let tooLong = "Sup3rSecret-" + String(repeating: "k", count: 1013)
        #expect(tooLong.utf8.count == 1025)
        for operation in ["hash", "verify"] {
            let error = await #expect(throws: PasswordHashingError.self) {
                if operation == "hash" {
                    _ = try await hasher.hash(tooLong)
                } else {
                    _ = try await hasher.verify(tooLong, against: phc)
                }
            }
            #expect(error?.code == .passwordTooLong)
            let text = error.map { "\($0) \(String(reflecting: $0))" } ?? ""
            #expect(!text.contains("Sup3rSecret"))
        }
    }

    @Test("the dummy hash uses the default configuration, so it costs what a real verify costs")
    func dummyHashMatchesDefaults() throws {
        let parsed = try PHCString(parsing: PasswordHasher.defaultDummyPHC)
        let defaults = PasswordHasher.Configuration.defaults
        #expect(parsed.parameters == defaults.parameters)
        #expect(parsed.salt.count == defaults.saltLength)
        #expect(parsed.hash.count == defaults.hashLength)
    }

    @Test("verifyDummy waits for a hashing slot like a real verification", arguments: [true, false])
    func dummyTakesASlot(useDefaults: Bool) async throws {
        var configuration = useDefaults ? PasswordHasher.Configuration() : fastConfiguration
        configuration.maxConcurrentHashes = 1
        let hasher = PasswordHasher(configuration: configuration)
        try await hasher.limiter.acquire()
        let dummy = Task { await hasher.verifyDummy("whoever") }
        try await eventually { await hasher.limiter.waitingCount == 1 }
        await hasher.limiter.release()
        await dummy.value
        #expect(await hasher.limiter.inUse == 0)
        #expect(await hasher.limiter.waitingCount == 0)
    }

    @Test("verifyDummy takes about as long as verifying a real default hash")
    func dummyTiming() async throws {
        let hasher = PasswordHasher()
        let phc = try await hasher.hash("real password")
        let clock = ContinuousClock()
        var real = [Duration]()
        var dummy = [Duration]()
        for _ in 0..<5 {
            real.append(try await clock.measure { _ = try await hasher.verify("guess", against: phc) })
            dummy.append(await clock.measure { await hasher.verifyDummy("guess") })
        }
        let realMedian = real.sorted()[2]
        let dummyMedian = dummy.sorted()[2]
        // Generous bounds: the point is "same order of work", not a benchmark.
        #expect(dummyMedian * 3 > realMedian)
        #expect(realMedian * 3 > dummyMedian)
    }

    @Test("no more than maxConcurrentHashes computations run at once")
    func concurrencyBound() async throws {
        let hasher = PasswordHasher(
            configuration: .init(memoryKiB: 8192, iterations: 1, maxConcurrentHashes: 2))
        let hashes = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<8 {
                group.addTask { try await hasher.hash("password \(index)") }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(hashes.count == 8)
        #expect(Set(hashes).count == 8)
        let highWaterMark = await hasher.limiter.highWaterMark
        #expect(highWaterMark >= 1)
        #expect(highWaterMark <= 2)
        #expect(await hasher.limiter.inUse == 0)
    }
}

/// Polls `condition` until it holds, failing the test after `timeout`.
func eventually(
    timeout: Duration = .seconds(10), _ condition: () async -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition did not become true within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(1))
    }
}
