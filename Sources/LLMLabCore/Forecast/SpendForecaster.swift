public import Foundation

/// How a month-end projection was made; the raw value is what the API reports.
public enum ForecastMethod: String, Sendable, Hashable {
    /// Seven or more complete days of history: the mean spend of each weekday over the
    /// trailing 28 days, applied to the remaining days by their weekday.
    case weekdayTrailing28d = "weekday_trailing_28d"
    /// One to six complete days: the plain daily mean, with a wide range.
    case dailyMean = "daily_mean"
    /// No complete day yet: nothing to extrapolate, the projection is month-to-date.
    case noHistory = "no_history"
}

/// A projected month-end spend with its range. All amounts include month-to-date.
public struct SpendForecast: Sendable, Hashable {
    public var monthStart: Date
    public var monthToDate: USDCost
    public var projected: USDCost
    public var low: USDCost
    public var high: USDCost
    public var method: ForecastMethod
    /// Complete days of history the projection used (0…28).
    public var historyDays: Int
}

/// Projects a project's spend to the end of the UTC calendar month, so dashboards and
/// budget alerts can warn before a budget is spent rather than after.
///
/// Method (weekday-aware trailing rate): LLM traffic follows the working week, so a plain
/// daily mean over-projects weekends and under-projects weekdays. From the last 28 complete
/// UTC days (ignoring days before the project's first usage), each weekday's spend values
/// are collected; the rest of today (pro rata by the seconds left) and each remaining day of
/// the month are projected at their weekday's mean. The low/high range uses the 20th/80th
/// percentile of the same-weekday values instead of the mean (linear interpolation between
/// closest ranks), widened if needed so that low ≤ projected ≤ high. With fewer than 7
/// complete days some weekday has no value, so the plain daily mean is used and the range
/// is half to twice the projected remaining spend. Money is integer pico-USD throughout
/// (divisions round half to even at 10^-12 USD); no floating point. Pure: no I/O, no clock.
public enum SpendForecaster {
    /// The trailing window, in days.
    public static let windowDays = 28
    /// Below this many complete days the weekday means are not all defined.
    public static let minimumWeekdayHistory = 7
    public static let lowPercentile = 20
    public static let highPercentile = 80

    /// - Parameters:
    ///   - monthToDate: spend from the start of the month up to `asOf`.
    ///   - dailySpend: spend per complete UTC day, keyed by ``dayNumber(_:)``; days missing
    ///     from the map spent nothing. Only the 28 days before `asOf`'s day are read.
    ///   - firstUsageDay: the day number of the project's first usage, nil when it has none.
    ///   - asOf: the moment to project from.
    public static func forecast(monthToDate: USDCost, dailySpend: [Int: USDCost], firstUsageDay: Int?,
                                asOf: Date) -> SpendForecast {
        let today = dayNumber(asOf)
        let (monthStartDay, monthEndDay) = monthBounds(containing: today)
        let secondsIntoToday = Int128(asOf.timeIntervalSince1970.rounded(.down)) - Int128(today) * 86_400
        let secondsLeftToday = max(0, min(86_400, 86_400 - secondsIntoToday))
        let mtd = pico(monthToDate)

        let windowStart = today - windowDays
        let historyStart = max(windowStart, firstUsageDay ?? today)
        let historyDays = max(0, today - historyStart)
        // Remaining days: today's rest as a fraction, then whole days to the end of the month.
        let remaining: [(day: Int, numerator: Int128)] =
            [(today, secondsLeftToday)] + (today + 1 ... max(today + 1, monthEndDay)).filter { $0 <= monthEndDay }.map { ($0, 86_400) }

        var projected = mtd, low = mtd, high = mtd
        let method: ForecastMethod
        if historyDays >= minimumWeekdayHistory {
            method = .weekdayTrailing28d
            var byWeekday: [[Int128]] = Array(repeating: [], count: 7)
            for day in historyStart ..< today {
                byWeekday[weekday(day)].append(dailySpend[day].map(pico) ?? 0)
            }
            for (day, numerator) in remaining {
                let values = byWeekday[weekday(day)].sorted()
                let mean = divideRounded(values.reduce(0, +), Int128(values.count))
                projected += divideRounded(mean * numerator, 86_400)
                low += divideRounded(percentile(values, lowPercentile) * numerator, 86_400)
                high += divideRounded(percentile(values, highPercentile) * numerator, 86_400)
            }
            low = min(low, projected)
            high = max(high, projected)
        } else if historyDays > 0 {
            method = .dailyMean
            var total: Int128 = 0
            for day in historyStart ..< today { total += dailySpend[day].map(pico) ?? 0 }
            let mean = divideRounded(total, Int128(historyDays))
            var rest: Int128 = 0
            for (_, numerator) in remaining { rest += divideRounded(mean * numerator, 86_400) }
            projected = mtd + rest
            low = mtd + divideRounded(rest, 2)
            high = mtd + rest * 2
        } else {
            method = .noHistory
        }
        return SpendForecast(monthStart: Date(timeIntervalSince1970: Double(monthStartDay) * 86_400),
                             monthToDate: monthToDate, projected: USDCost(picoUSD: projected), low: USDCost(picoUSD: low),
                             high: USDCost(picoUSD: high), method: method, historyDays: historyDays)
    }

    /// Days since 1970-01-01 (UTC) of the day containing `date`.
    public static func dayNumber(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// 0 = Monday … 6 = Sunday. Day 0 (1970-01-01) was a Thursday.
    public static func weekday(_ day: Int) -> Int {
        ((day + 3) % 7 + 7) % 7
    }

    /// First and last day number of the UTC calendar month containing `day`.
    public static func monthBounds(containing day: Int) -> (first: Int, last: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(day) * 86_400)
        let components = calendar.dateComponents([.year, .month], from: date)
        let start = calendar.date(from: components)!
        let next = calendar.date(byAdding: .month, value: 1, to: start)!
        return (dayNumber(start), dayNumber(next) - 1)
    }

    /// The `percent`th percentile of sorted values, interpolating linearly between the
    /// closest ranks (position (n − 1) × p).
    static func percentile(_ sorted: [Int128], _ percent: Int) -> Int128 {
        guard !sorted.isEmpty else { return 0 }
        let position = Int128(sorted.count - 1) * Int128(percent)
        let index = Int(position / 100)
        let fraction = position % 100
        guard fraction != 0, index + 1 < sorted.count else { return sorted[index] }
        return sorted[index] + divideRounded((sorted[index + 1] - sorted[index]) * fraction, 100)
    }

    /// `lhs / rhs` rounded half to even (rhs > 0).
    static func divideRounded(_ lhs: Int128, _ rhs: Int128) -> Int128 {
        var quotient = lhs / rhs
        let remainder = lhs % rhs
        let twice = remainder.magnitude * 2
        if twice > rhs.magnitude || (twice == rhs.magnitude && quotient % 2 != 0) {
            quotient += (lhs < 0) == (rhs < 0) ? 1 : -1
        }
        return quotient
    }

    static func pico(_ cost: USDCost) -> Int128 {
        cost.picoUSD ?? cost.rounded(toPlaces: 12).picoUSD ?? 0
    }
}
