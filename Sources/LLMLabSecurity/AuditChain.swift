import Foundation
public import LLMLabCore
import Crypto

/// The tamper-evident chain over audit rows: each row's `hash` is SHA-256 over the previous
/// row's hash and a canonical serialization of the row, so editing, deleting, inserting or
/// reordering a stored row breaks every later link. The store appends sealed rows; a
/// verify call walks them with `verify`.
public enum AuditChain {
    /// Version tag at the start of the canonical form, so the format can evolve without a
    /// new serialization ever colliding with an old one.
    static let formatTag = "llmlab-audit-v1"

    /// An unambiguous serialization of every field except `hash`: a version line, then one
    /// line per field in fixed order, `<name> <UTF-8 byte length> <value>`. The explicit
    /// lengths mean no choice of field contents (newlines, spaces) can make two different
    /// rows serialize alike. The time is integer microseconds since 1970, PostgreSQL's
    /// `timestamptz` precision, so a row read back from the database hashes identically.
    public static func canonicalForm(_ record: AuditRecord) -> String {
        let fields: [(String, String)] = [
            ("sequence", String(record.sequence)),
            ("occurred_at_us", String(microsecondsSince1970(record.occurredAt))),
            ("actor", record.actor),
            ("action", record.action),
            ("target", record.target),
            ("request_id", record.requestID),
            ("outcome", record.outcome.rawValue),
            ("detail", record.detail),
            ("previous_hash", record.previousHash),
        ]
        var text = formatTag + "\n"
        for (name, value) in fields {
            text += "\(name) \(value.utf8.count) \(value)\n"
        }
        return text
    }

    /// Lowercase hex SHA-256 over `previousHash` followed by the canonical form.
    public static func hash(_ record: AuditRecord) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(record.previousHash.utf8))
        hasher.update(data: Array(canonicalForm(record).utf8))
        return hasher.finalize().hexString
    }

    /// The record with `hash` filled in, ready to append. `occurredAt` is first moved to a
    /// whole microsecond (the one PostgreSQL will store), so the stored row and the sealed
    /// value agree exactly; persist the returned record, not the input.
    public static func seal(_ record: AuditRecord) -> AuditRecord {
        var sealed = record
        sealed.occurredAt = storableDate(record.occurredAt)
        sealed.hash = hash(sealed)
        return sealed
    }

    /// Walks `rows` in order and reports the first break. Each row must link to the
    /// previous row's hash (the first to `previousHash`), carry the next sequence number,
    /// and have a hash that recomputes from its contents.
    ///
    /// Sequences start at 1 when verifying from the genesis hash. To verify a later
    /// segment, pass the hash of the row before it and, optionally, `firstSequence`; without
    /// it the segment's first sequence is taken as given.
    public static func verify<Rows: Sequence<AuditRecord>>(
        _ rows: Rows,
        startingAfter previousHash: String = AuditRecord.genesisHash,
        firstSequence: Int64? = nil
    ) -> AuditVerification {
        var expectedPrevious = previousHash
        var expectedSequence: Int64? = firstSequence ?? (previousHash == AuditRecord.genesisHash ? 1 : nil)
        var count = 0
        for row in rows {
            if let expected = expectedSequence, row.sequence != expected {
                return .broken(
                    sequence: row.sequence,
                    reason: "expected sequence \(expected) but found \(row.sequence): "
                        + "a row is missing, inserted or out of order")
            }
            guard row.previousHash == expectedPrevious else {
                return .broken(
                    sequence: row.sequence,
                    reason: "previous_hash does not match the hash of the row before it")
            }
            guard hash(row) == row.hash else {
                return .broken(
                    sequence: row.sequence,
                    reason: "hash does not match the row's contents: the row was modified after it was written")
            }
            expectedPrevious = row.hash
            expectedSequence = row.sequence &+ 1
            count += 1
        }
        return .intact(count: count)
    }

    // MARK: Time

    /// 2001-01-01 (Foundation's reference date) in microseconds since 1970.
    private static let referenceDateMicroseconds: Int64 = 978_307_200_000_000
    /// PostgreSQL's timestamp epoch, 2000-01-01.
    private static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

    /// Whole microseconds since 1970, rounded to the nearest. Computed from Foundation's
    /// reference date (the value `Date` actually stores) so no large offset is added in
    /// floating point; rounding absorbs the sub-microsecond error of a `Date` that came back
    /// from the database.
    static func microsecondsSince1970(_ date: Date) -> Int64 {
        let scaled = (date.timeIntervalSinceReferenceDate * 1_000_000).rounded()
        guard let micros = Int64(exactly: scaled) else {
            return scaled.isNaN ? 0 : (scaled < 0 ? .min : .max)
        }
        let (sum, overflow) = micros.addingReportingOverflow(referenceDateMicroseconds)
        return overflow ? .max : sum
    }

    /// `date` moved to its nearest whole microsecond, in a form that PostgreSQL stores as
    /// exactly that microsecond. PostgreSQL keeps whole microseconds from 2000-01-01 and the
    /// client (PostgresNIO) truncates any fraction, so a `Date` a hair below a microsecond
    /// would be stored one microsecond early; the result is nudged by floating-point ulps
    /// until truncation yields the intended microsecond. Idempotent, so a row read back
    /// from the database and sealed again keeps its time.
    static func storableDate(_ date: Date) -> Date {
        func postgresMicroseconds(_ date: Date) -> Double {
            (date.timeIntervalSince(postgresEpoch) * 1_000_000).rounded(.towardZero)
        }
        let offset = (date.timeIntervalSince(postgresEpoch) * 1_000_000).rounded()
        guard offset.isFinite, let micros = Int64(exactly: offset) else { return date }
        let decoded = Date(timeInterval: Double(micros) / 1_000_000, since: postgresEpoch)
        var seconds = decoded.timeIntervalSinceReferenceDate
        for _ in 0..<64 {
            let stored = Int64(postgresMicroseconds(Date(timeIntervalSinceReferenceDate: seconds)))
            if stored == micros { break }
            seconds = stored < micros ? seconds.nextUp : seconds.nextDown
        }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }
}
