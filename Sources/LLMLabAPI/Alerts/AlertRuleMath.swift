import Foundation
import LLMLabCore

/// One alert the evaluator found due (not yet known to have fired): what goes into
/// `alert_events` and the delivery payload. Amounts are exact decimal text, so no 128-bit
/// integer is held across an `await`.
struct AlertCandidate: Sendable, Hashable {
    enum Kind: String, Sendable {
        case budgetThreshold = "budget_threshold"
        case budgetForecast = "budget_forecast"
        case costSpike = "cost_spike"
    }

    var kind: Kind
    /// `project` or `api_key`.
    var subjectKind: String
    var subjectID: UUID
    var projectID: UUID?
    var subjectName: String
    var period: String
    var threshold: Int
    var observedUSD: String
    var limitUSD: String?
    var baselineUSD: String?
    /// Extra payload fields (forecast method, spike factor, …).
    var extra: [String: String] = [:]
}

/// The pure decisions behind every alert rule: which thresholds a spend has crossed, whether
/// the month-end forecast exceeds the budget, whether an hour is a spike. No I/O, no clock,
/// no floating point: amounts are compared as exact decimals (``USDCost``), a spike factor
/// as integer ten-thousandths.
enum AlertRuleMath {
    /// Thresholds (percent of the monthly budget) when a subject has no rule: the proxy's.
    static let defaultThresholds = [50, 80, 100]
    /// The spike baseline: the mean hourly spend over this many hours before the hour.
    static let baselineHours = 168

    /// The thresholds `spent` has reached: `spent × 100 ≥ budget × pct`. A zero budget
    /// (every request refused) alerts nothing: there is no spend to warn about.
    static func crossedThresholds(spent: USDCost, budget: USDCost, thresholds: [Int]) -> [Int] {
        guard !budget.isZero else { return [] }
        return thresholds.filter { spent * 100 >= budget * $0 }.sorted()
    }

    /// True when the forecast's central value exceeds the (non-zero) budget.
    static func forecastExceeds(_ forecast: SpendForecast, budget: USDCost) -> Bool {
        !budget.isZero && forecast.projected > budget
    }

    /// The spend of the last 60 minutes from hourly rollups: the current UTC hour so far
    /// plus the previous hour pro rata for the part of it still inside the window
    /// (`previous × (3600 − secondsIntoHour) / 3600`, rounded half to even at 10^-12 USD).
    /// Hourly buckets cannot say when inside the previous hour its spend happened; spreading
    /// it evenly means a burst across the top of the hour is still seen as one hour's spend.
    static func lastHourSpend(current: USDCost, previous: USDCost, secondsIntoHour: Int) -> USDCost {
        let remaining = Int128(max(0, min(3600, 3600 - secondsIntoHour)))
        guard remaining > 0, !previous.isZero else { return current }
        return current + USDCost(picoUSD: SpendForecasterRounding.divide(pico(previous) * remaining, 3600))
    }

    /// A spike factor ("3", "2.5", at most 4 decimals, > 1) as integer ten-thousandths.
    static func factorTenThousandths(_ text: String) -> Int? {
        guard let value = try? USDCost.parse(text, field: "spike_factor"),
              let pico = (value * 10_000).picoUSD, pico % 1_000_000_000_000 == 0
        else { return nil }
        let whole = pico / 1_000_000_000_000
        guard whole > 10_000, whole <= 1_000_000_000 else { return nil }
        return Int(whole)
    }

    /// Spike decision for one hour: the hour's spend is at least `minimum` and greater than
    /// `factor` × the mean hourly spend of the baseline window (`baselineTotal` over
    /// ``baselineHours`` hours; a subject with no history has a zero baseline, so only the
    /// minimum holds it back). Returns (mean, factor × mean) rounded to 10^-12 USD when
    /// it is a spike, nil otherwise.
    static func spike(hourSpend: USDCost, baselineTotal: USDCost, factorE4: Int, minimum: USDCost)
        -> (baselineMean: USDCost, threshold: USDCost)?
    {
        guard hourSpend >= minimum, !hourSpend.isZero else { return nil }
        // hour > factor × total / hours  ⇔  hour × hours × 10^4 > total × factorE4
        guard hourSpend * baselineHours * 10_000 > baselineTotal * factorE4 else { return nil }
        let totalPico = pico(baselineTotal)
        let mean = SpendForecasterRounding.divide(totalPico, Int128(baselineHours))
        let threshold = SpendForecasterRounding.divide(mean * Int128(factorE4), 10_000)
        return (USDCost(picoUSD: mean), USDCost(picoUSD: threshold))
    }

    static func pico(_ cost: USDCost) -> Int128 {
        cost.picoUSD ?? cost.rounded(toPlaces: 12).picoUSD ?? 0
    }

    /// `YYYY-MM-DD` of a UTC day number (the period of monthly alerts, as budget_events has it).
    static func dayText(_ day: Int) -> String {
        let date = Date(timeIntervalSince1970: Double(day) * 86_400)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
    }

    /// The start of the UTC hour containing `date`.
    static func hourStart(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    /// `YYYY-MM-DDTHH:00:00Z` of an hour start (the period of spike alerts).
    static func hourText(_ hour: Date) -> String {
        let seconds = Int(hour.timeIntervalSince1970)
        return dayText(seconds / 86_400) + String(format: "T%02d:00:00Z", (seconds % 86_400) / 3600)
    }
}

/// Half-to-even integer division (the forecaster's rounding, for spike figures).
enum SpendForecasterRounding {
    static func divide(_ lhs: Int128, _ rhs: Int128) -> Int128 {
        var quotient = lhs / rhs
        let remainder = lhs % rhs
        let twice = remainder.magnitude * 2
        if twice > rhs.magnitude || (twice == rhs.magnitude && quotient % 2 != 0) {
            quotient += (lhs < 0) == (rhs < 0) ? 1 : -1
        }
        return quotient
    }
}
