import Foundation
import LLMLabCore
import Testing

/// The month-end forecast on synthetic series whose answers were worked out by hand.
@Suite("Spend forecaster")
struct SpendForecasterTests {
    static func usd(_ text: String) -> USDCost { try! USDCost.parse(text, field: "test") }

    /// 2026-03-30 (a Monday) is day 20542.
    static let monday30 = 20542

    /// 28 days before `today`: Mondays spend 8, 10, 12, 14; Tuesdays 1, 2, 3, 4; other days 5.
    static func series(before today: Int) -> [Int: USDCost] {
        var spend: [Int: USDCost] = [:]
        var mondays = ["8", "10", "12", "14"].makeIterator()
        var tuesdays = ["1", "2", "3", "4"].makeIterator()
        for day in (today - 28) ..< today {
            switch SpendForecaster.weekday(day) {
            case 0: spend[day] = usd(mondays.next()!)
            case 1: spend[day] = usd(tuesdays.next()!)
            default: spend[day] = usd("5")
            }
        }
        return spend
    }

    @Test("calendar helpers: weekdays from the epoch, month bounds with leap years")
    func calendar() {
        #expect(SpendForecaster.weekday(0) == 3)  // 1970-01-01, Thursday
        #expect(SpendForecaster.weekday(Self.monday30) == 0)
        #expect(SpendForecaster.dayNumber(Date(timeIntervalSince1970: 86_400 * 20542 + 86_399)) == 20542)
        let feb2028 = SpendForecaster.monthBounds(containing: SpendForecaster.dayNumber(ISO8601DateFormatter().date(from: "2028-02-10T00:00:00Z")!))
        #expect(feb2028.last - feb2028.first == 28)  // 29 days
        let march = SpendForecaster.monthBounds(containing: Self.monday30)
        #expect(march.first == Self.monday30 - 29 && march.last == Self.monday30 + 1)
    }

    @Test("weekday-aware: Monday 30th and Tuesday 31st at their weekday means; range from the 20th/80th percentiles")
    func weekdayAware() {
        let asOf = Date(timeIntervalSince1970: Double(Self.monday30) * 86_400)
        let forecast = SpendForecaster.forecast(monthToDate: Self.usd("100"), dailySpend: Self.series(before: Self.monday30),
                                                firstUsageDay: Self.monday30 - 100, asOf: asOf)
        #expect(forecast.method == .weekdayTrailing28d)
        #expect(forecast.historyDays == 28)
        // Monday: mean 11, P20 = 8 + 0.6 × 2 = 9.2, P80 = 12 + 0.4 × 2 = 12.8.
        // Tuesday: mean 2.5, P20 = 1 + 0.6 × 1 = 1.6, P80 = 3 + 0.4 × 1 = 3.4.
        #expect(forecast.projected == Self.usd("113.5"))
        #expect(forecast.low == Self.usd("110.8"))
        #expect(forecast.high == Self.usd("116.2"))
        #expect(forecast.monthToDate == Self.usd("100"))
        #expect(forecast.monthStart == ISO8601DateFormatter().date(from: "2026-03-01T00:00:00Z"))
    }

    @Test("the rest of today counts pro rata: noon on the last day projects half a Tuesday")
    func partialDay() {
        let today = Self.monday30 + 1
        let asOf = Date(timeIntervalSince1970: Double(today) * 86_400 + 43_200)
        let forecast = SpendForecaster.forecast(monthToDate: Self.usd("100"), dailySpend: Self.series(before: today),
                                                firstUsageDay: today - 40, asOf: asOf)
        #expect(forecast.projected == Self.usd("101.25"))
        #expect(forecast.low == Self.usd("100.8"))
        #expect(forecast.high == Self.usd("101.7"))
    }

    @Test("fewer than 7 days: the plain daily mean, half to twice the remaining spend")
    func shortHistory() {
        let today = Self.monday30
        let spend = [today - 3: Self.usd("3"), today - 2: Self.usd("6"), today - 1: Self.usd("9")]
        let asOf = Date(timeIntervalSince1970: Double(today) * 86_400)
        let forecast = SpendForecaster.forecast(monthToDate: Self.usd("20"), dailySpend: spend, firstUsageDay: today - 3, asOf: asOf)
        #expect(forecast.method == .dailyMean)
        #expect(forecast.historyDays == 3)
        // Mean 6 × 2 remaining days = 12.
        #expect(forecast.projected == Self.usd("32"))
        #expect(forecast.low == Self.usd("26"))
        #expect(forecast.high == Self.usd("44"))
    }

    @Test("no complete day of history: the projection is month-to-date")
    func noHistory() {
        let asOf = Date(timeIntervalSince1970: Double(Self.monday30) * 86_400 + 3_600)
        let forecast = SpendForecaster.forecast(monthToDate: Self.usd("0.5"), dailySpend: [:], firstUsageDay: Self.monday30, asOf: asOf)
        #expect(forecast.method == .noHistory)
        #expect(forecast.projected == Self.usd("0.5") && forecast.low == Self.usd("0.5") && forecast.high == Self.usd("0.5"))
        let none = SpendForecaster.forecast(monthToDate: .zero, dailySpend: [:], firstUsageDay: nil, asOf: asOf)
        #expect(none.method == .noHistory && none.projected == .zero)
    }

    @Test("sub-cent amounts stay exact (pico-USD), never floating point")
    func exactness() {
        let today = Self.monday30
        var spend: [Int: USDCost] = [:]
        for day in (today - 7) ..< today { spend[day] = Self.usd("0.000000000003") }
        let forecast = SpendForecaster.forecast(monthToDate: .zero, dailySpend: spend, firstUsageDay: today - 7,
                                                asOf: Date(timeIntervalSince1970: Double(today) * 86_400))
        #expect(forecast.method == .weekdayTrailing28d)
        #expect(forecast.projected == Self.usd("0.000000000006"))
    }
}

@Suite("Latency histogram")
struct LatencyHistogramTests {
    static let bounds: [Int64] = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000]

    @Test("percentiles interpolate inside the bucket holding the rank")
    func interpolation() {
        var counts = [Int64](repeating: 0, count: 11)
        counts[2] = 10  // ten requests in [100, 250)
        let one = LatencyHistogram(upperBoundsMs: Self.bounds, counts: counts)
        #expect(one.percentile(50) == 175)
        #expect(one.percentile(90) == 235)
        #expect(one.percentile(99) == 250)

        counts = [Int64](repeating: 0, count: 11)
        counts[0] = 50
        counts[5] = 50  // [1000, 2500)
        let two = LatencyHistogram(upperBoundsMs: Self.bounds, counts: counts)
        #expect(two.percentile(50) == 50)
        #expect(two.percentile(90) == 2200)
        #expect(two.percentile(99) == 2470)
    }

    @Test("the open last bucket reports its lower bound; empty is 0")
    func edges() {
        var counts = [Int64](repeating: 0, count: 11)
        counts[10] = 3
        #expect(LatencyHistogram(upperBoundsMs: Self.bounds, counts: counts).percentile(50) == 60000)
        #expect(LatencyHistogram(upperBoundsMs: Self.bounds, counts: [Int64](repeating: 0, count: 11)).percentile(99) == 0)
    }
}
