import Foundation
import LLMLabCore
import Testing

@testable import LLMLabSecurity

/// A sealed chain of `count` rows, linked from the genesis hash.
private func makeChain(_ count: Int, start: Date = Date(timeIntervalSince1970: 1_718_000_000.123_456_7)) -> [AuditRecord] {
    var rows: [AuditRecord] = []
    var previous = AuditRecord.genesisHash
    for index in 1...count {
        let row = AuditChain.seal(
            AuditRecord(
                sequence: Int64(index), occurredAt: start.addingTimeInterval(Double(index) * 1.000_000_3),
                actor: "user:u_\(index % 2)", action: "llmlab.v1.ProjectService/CreateProject",
                target: "project:p_\(index)", requestID: "req-\(index)",
                outcome: index == 3 ? .denied : .success, detail: "name=Project \(index)",
                previousHash: previous, hash: ""))
        rows.append(row)
        previous = row.hash
    }
    return rows
}

/// Re-seals `rows` as a self-consistent chain (what a forger with write access could do
/// for the rows themselves), so only the property under test can catch the change.
private func relink(_ rows: [AuditRecord]) -> [AuditRecord] {
    var previous = AuditRecord.genesisHash
    return rows.map { row in
        var row = row
        row.previousHash = previous
        row = AuditChain.seal(row)
        previous = row.hash
        return row
    }
}

private func brokenSequence(_ result: AuditVerification) -> Int64? {
    if case .broken(let sequence, _) = result { return sequence }
    return nil
}

@Suite("AuditChain")
struct AuditChainTests {
    @Test("a sealed chain verifies")
    func intact() {
        let rows = makeChain(5)
        #expect(AuditChain.verify(rows) == .intact(count: 5))
        #expect(rows.allSatisfy { $0.hash.count == 64 && $0.hash == AuditChain.hash($0) })
        #expect(AuditChain.verify([AuditRecord]()) == .intact(count: 0))
    }

    @Test(
        "editing any field of row 2 of 5 is found at row 2",
        arguments: ["occurredAt", "actor", "action", "target", "requestID", "outcome", "detail", "previousHash", "hash"])
    func editedFieldFound(field: String) {
        var rows = makeChain(5)
        switch field {
        case "occurredAt": rows[1].occurredAt = rows[1].occurredAt.addingTimeInterval(0.000_001)
        case "actor": rows[1].actor = "user:attacker"
        case "action": rows[1].action += "X"
        case "target": rows[1].target = "project:p_9"
        case "requestID": rows[1].requestID = "req-x"
        case "outcome": rows[1].outcome = .failed
        case "detail": rows[1].detail += " "
        case "previousHash": rows[1].previousHash = String(repeating: "1", count: 64)
        default: rows[1].hash = String(repeating: "f", count: 64)
        }
        #expect(brokenSequence(AuditChain.verify(rows)) == 2)
    }

    @Test("editing row 2 and recomputing its hash is found at row 3")
    func rehashedEditFound() {
        var rows = makeChain(5)
        rows[1].actor = "user:attacker"
        rows[1] = AuditChain.seal(rows[1])
        let result = AuditChain.verify(rows)
        #expect(brokenSequence(result) == 3)
        if case .broken(_, let reason) = result { #expect(reason.contains("previous_hash")) }
    }

    @Test("deleting a row is found where it was")
    func deletionFound() {
        var rows = makeChain(5)
        rows.remove(at: 2)
        #expect(brokenSequence(AuditChain.verify(rows)) == 4)
        // Deleting the last row cannot be seen from the rows alone, only from a count or
        // head hash kept elsewhere; the chain up to there is still intact.
        #expect(AuditChain.verify(makeChain(5).dropLast()) == .intact(count: 4))
    }

    @Test("reordering rows is found")
    func reorderFound() {
        var rows = makeChain(5)
        rows.swapAt(1, 2)
        #expect(brokenSequence(AuditChain.verify(rows)) == 3)
    }

    @Test("a gap in sequence numbers is found even when the hashes link")
    func gapFound() {
        var rows = makeChain(5)
        rows[3].sequence = 5
        rows[4].sequence = 6
        rows = relink(rows)
        let result = AuditChain.verify(rows)
        #expect(brokenSequence(result) == 5)
        if case .broken(_, let reason) = result { #expect(reason.contains("expected sequence 4")) }
    }

    @Test("a chain that does not start at 1 from genesis is found")
    func wrongStartFound() {
        var rows = makeChain(3)
        for index in rows.indices { rows[index].sequence += 1 }
        rows = relink(rows)
        #expect(brokenSequence(AuditChain.verify(rows)) == 2)
    }

    @Test("a segment verifies from the hash before it")
    func segment() {
        let rows = makeChain(5)
        let tail = Array(rows[2...])
        #expect(AuditChain.verify(tail, startingAfter: rows[1].hash) == .intact(count: 3))
        #expect(AuditChain.verify(tail, startingAfter: rows[1].hash, firstSequence: 3) == .intact(count: 3))
        #expect(brokenSequence(AuditChain.verify(tail, startingAfter: rows[1].hash, firstSequence: 4)) == 3)
        #expect(brokenSequence(AuditChain.verify(tail, startingAfter: rows[0].hash)) == 3)
        #expect(brokenSequence(AuditChain.verify(tail)) == 3)
    }

    @Test("the canonical form and hash are pinned (stored chains depend on them)")
    func pinnedFormat() {
        let record = AuditRecord(
            sequence: 1, occurredAt: Date(timeIntervalSince1970: 1_718_022_896.123_456),
            actor: "user:42", action: "llmlab.v1.ProjectService/CreateProject", target: "project:p_1",
            requestID: "req-1", outcome: .success, detail: "name=\u{DC}n\u{EF}code",
            previousHash: AuditRecord.genesisHash, hash: "")
        let expected = """
            llmlab-audit-v1
            sequence 1 1
            occurred_at_us 16 1718022896123456
            actor 7 user:42
            action 38 llmlab.v1.ProjectService/CreateProject
            target 11 project:p_1
            request_id 5 req-1
            outcome 7 success
            detail 14 name=\u{DC}n\u{EF}code
            previous_hash 64 \(AuditRecord.genesisHash)

            """
        #expect(AuditChain.canonicalForm(record) == expected)
        // sha256(previousHash + canonical form), computed independently with Python's hashlib.
        #expect(AuditChain.hash(record) == "af9ddc09fae2d710802de5cd7a60a73f7ce67473a27aaf556a8a2569fb71f9bc")
    }

    @Test("moving text between fields changes the canonical form")
    func unambiguous() {
        var first = makeChain(1)[0]
        var second = first
        first.actor = "user:1"
        first.action = "a\nb"
        second.actor = "user:1\naction 1 a"
        second.action = "b"
        #expect(AuditChain.canonicalForm(first) != AuditChain.canonicalForm(second))
        #expect(AuditChain.hash(first) != AuditChain.hash(second))
        var third = first
        third.target = first.target + " "
        #expect(AuditChain.hash(first) != AuditChain.hash(third))
    }

    @Test("sealed rows survive a PostgreSQL timestamptz round trip")
    func postgresRoundTrip() {
        // PostgresNIO's binary timestamptz codec: whole microseconds since 2000-01-01,
        // truncated on encode, divided back on decode.
        let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)
        func encode(_ date: Date) -> Int64 { Int64(date.timeIntervalSince(postgresEpoch) * 1_000_000) }
        func decode(_ micros: Int64) -> Date {
            Date(timeInterval: Double(micros) / 1_000_000, since: postgresEpoch)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            // Times from 2000 to 2100 with sub-microsecond fractions, as Date() produces.
            let original = Date(timeIntervalSince1970: Double.random(in: 946_684_800...4_102_444_800, using: &generator))
            let row = AuditChain.seal(
                AuditRecord(
                    sequence: 1, occurredAt: original, actor: "user:1", action: "a", target: "", requestID: "r",
                    outcome: .success, detail: "", previousHash: AuditRecord.genesisHash, hash: ""))
            let stored = encode(row.occurredAt)
            let nearest = Int64((original.timeIntervalSince(postgresEpoch) * 1_000_000).rounded())
            #expect(stored == nearest, "sealing moves the time to its nearest microsecond, and PostgreSQL keeps it")
            var readBack = row
            readBack.occurredAt = decode(stored)
            #expect(AuditChain.hash(readBack) == row.hash, "\(original.timeIntervalSince1970)")
            #expect(AuditChain.microsecondsSince1970(readBack.occurredAt) == stored + 946_684_800_000_000)
            // Sealing is idempotent: a row read back and sealed again keeps its time and hash.
            let resealed = AuditChain.seal(readBack)
            #expect(encode(resealed.occurredAt) == stored)
            #expect(resealed.hash == row.hash)
        }
    }
}
