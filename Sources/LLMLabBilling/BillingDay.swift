public import Foundation

/// A calendar day in UTC. Providers bill per UTC day and the usage rollup is keyed by UTC
/// hour, so reconciliation compares days and never local dates.
public struct BillingDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let ordinal: Int

    public init(ordinal: Int) { self.ordinal = ordinal }

    /// The day containing `date` (UTC).
    public init(containing date: Date) {
        self.ordinal = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// The day containing a unix timestamp in seconds.
    public init(unixSeconds: Int64) {
        let (quotient, remainder) = unixSeconds.quotientAndRemainder(dividingBy: 86_400)
        self.ordinal = Int(remainder < 0 ? quotient - 1 : quotient)
    }

    public init(year: Int, month: Int, day: Int) {
        // Days from civil (H. Hinnant), proleptic Gregorian.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.ordinal = era * 146_097 + doe - 719_468
    }

    /// Parses "YYYY-MM-DD" (also the date part of "YYYY-MM-DDTHH:MM:SSZ" or
    /// "YYYY-MM-DD HH:MM:SS UTC"); nil when it is not a valid date.
    public static func parse(_ text: some StringProtocol) -> BillingDay? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        if bytes.count > 10, bytes[10] != UInt8(ascii: "T"), bytes[10] != UInt8(ascii: " "), bytes[10] != UInt8(ascii: "t") {
            return nil
        }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year)
        else { return nil }
        return BillingDay(year: year, month: month, day: day)
    }

    /// Parses the compact `YYYYMMDD` form (Azure's `UsageDate`).
    public static func parseCompact(_ text: some StringProtocol) -> BillingDay? {
        let s = String(text)
        guard s.utf8.count == 8, s.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return parse("\(s.prefix(4))-\(s.dropFirst(4).prefix(2))-\(s.suffix(2))")
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// (year, month, day), civil from days (H. Hinnant).
    public var components: (year: Int, month: Int, day: Int) {
        let z = ordinal + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// "YYYY-MM-DD".
    public var description: String {
        let (y, m, d) = components
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Midnight UTC at the start of the day.
    public var start: Date { Date(timeIntervalSince1970: TimeInterval(ordinal) * 86_400) }
    public var unixSeconds: Int64 { Int64(ordinal) * 86_400 }
    /// "YYYY-MM-DDT00:00:00Z".
    public var rfc3339: String { "\(description)T00:00:00Z" }

    public func adding(days: Int) -> BillingDay { BillingDay(ordinal: ordinal + days) }

    public static func < (lhs: BillingDay, rhs: BillingDay) -> Bool { lhs.ordinal < rhs.ordinal }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let day = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a YYYY-MM-DD date")
        }
        self = day
    }
}

/// The days `[first, last]` (both included) a sync or a reconciliation covers.
public struct BillingPeriod: Sendable, Hashable, CustomStringConvertible {
    public var first: BillingDay
    public var last: BillingDay

    public init(first: BillingDay, last: BillingDay) {
        precondition(first <= last, "a billing period ends on or after its first day")
        self.first = first
        self.last = last
    }

    /// The day after the last one: the exclusive end providers' APIs take.
    public var endExclusive: BillingDay { last.adding(days: 1) }
    public var dayCount: Int { last.ordinal - first.ordinal + 1 }
    public func contains(_ day: BillingDay) -> Bool { day >= first && day <= last }
    public var description: String { "\(first)..\(last)" }
}
