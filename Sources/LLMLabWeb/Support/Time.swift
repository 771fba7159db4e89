import Foundation
import SwiftProtobuf

/// UTC time as the analytics RPCs want it (hour-aligned ranges) and as pages show it.
enum UTCTime {
    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    /// The start of the hour after `date` (or `date` itself when on the hour).
    static func hourCeiling(_ date: Date) -> Date {
        let seconds = date.timeIntervalSince1970.rounded(.up)
        return Date(timeIntervalSince1970: (seconds / 3600).rounded(.up) * 3600)
    }

    static func monthStart(_ date: Date) -> Date {
        calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
    }

    static func timestamp(_ date: Date) -> Google_Protobuf_Timestamp { Google_Protobuf_Timestamp(date: date) }

    /// "2026-03-02 10:00".
    static func minute(_ date: Date) -> String { let c = civil(date); return "\(c.date) \(pad(c.hour)):\(pad(c.minute))" }
    static func second(_ date: Date) -> String { let c = civil(date); return "\(c.date) \(pad(c.hour)):\(pad(c.minute)):\(pad(c.second))" }
    static func day(_ date: Date) -> String { civil(date).date }
    static func iso(_ date: Date) -> String { let c = civil(date); return "\(c.date)T\(pad(c.hour)):\(pad(c.minute)):\(pad(c.second))Z" }

    /// UTC calendar fields by integer arithmetic (days-from-civil inverse, proleptic
    /// Gregorian): no formatter objects, which are slow to make and not Sendable.
    static func civil(_ date: Date) -> (date: String, hour: Int, minute: Int, second: Int) {
        let t = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = t / 86_400
        var seconds = t % 86_400
        if seconds < 0 { seconds += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let text = "\(year)-\(pad(Int(month)))-\(pad(Int(day)))"
        return (text, Int(seconds / 3600), Int(seconds % 3600 / 60), Int(seconds % 60))
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// A `<time>` element with the exact instant in its `datetime`.
    static func html(_ timestamp: Google_Protobuf_Timestamp?, seconds: Bool = false) -> HTML {
        guard let timestamp, timestamp.seconds != 0 || timestamp.nanos != 0 else { return "—" }
        let date = timestamp.date
        return "<time datetime=\"\(iso(date))\">\(seconds ? second(date) : minute(date))</time>"
    }

    /// "850 ms", "3.2 s", "2 min 4 s".
    static func duration(microseconds: Int64) -> String {
        let ms = Double(microseconds) / 1000
        if ms < 1 { return "\(microseconds) µs" }
        if ms < 1000 { return "\(Escape.number(ms < 10 ? ms : ms.rounded())) ms" }
        let seconds = ms / 1000
        if seconds < 60 { return "\(Escape.number((seconds * 10).rounded() / 10)) s" }
        let whole = Int(seconds)
        return "\(whole / 60) min \(whole % 60) s"
    }
}

/// Exact decimal sums of the control plane's USD strings (Foundation's base-10 Decimal, 38
/// digits: never binary floating point).
enum DecimalSum {
    static func sum(_ values: [String]) -> String {
        var total = Decimal(0)
        for value in values where !value.isEmpty {
            if let decimal = Decimal(string: value, locale: Locale(identifier: "en_US_POSIX")) { total += decimal }
        }
        return NSDecimalNumber(decimal: total).stringValue
    }
}
