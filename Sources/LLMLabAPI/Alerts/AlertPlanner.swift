import Foundation
import LLMLabCore
import LLMLabStore

/// Everything one tenant's evaluation reads, gathered from the rollups before any decision.
/// Amounts are exact decimal text.
struct AlertInputs: Sendable {
    struct Window: Sendable, Hashable {
        /// Spend in the current UTC hour so far.
        var current: String
        /// Spend in the previous UTC hour.
        var previous: String
        /// Spend in the ``AlertRuleMath/baselineHours`` hours before the current one.
        var baseline: String
    }

    var now: Date
    var rules: [AlertRuleRecord] = []
    var projects: [AlertInputRepository.Project] = []
    /// Keys with a budget, and keys named by a rule.
    var keys: [AlertInputRepository.Key] = []
    var projectSpend: [UUID: String] = [:]
    var keySpend: [UUID: String] = [:]
    /// Keyed by subject id (project and key ids never collide: both are random UUIDs).
    var windows: [UUID: Window] = [:]
    var dailySpend: [UUID: [Int: String]] = [:]
    var firstUsageDay: [UUID: Int] = [:]
    /// Subjects that had a spike alert for the previous UTC hour: for them the previous
    /// hour's spend is not counted again (one burst across the top of the hour alerts once).
    var spikedLastHour: Set<UUID> = []
}

/// Turns a tenant's ``AlertInputs`` into the alerts that are due now (before deduplication
/// against `alert_events`, which the evaluator does). Pure and synchronous: the exact
/// decimal arithmetic (`USDCost`, 128-bit) never lives across an `await`.
enum AlertPlanner {
    /// The month's first day number and `YYYY-MM-DD`.
    static func month(of now: Date) -> (startDay: Int, text: String) {
        let (first, _) = SpendForecaster.monthBounds(containing: SpendForecaster.dayNumber(now))
        return (first, AlertRuleMath.dayText(first))
    }

    static func cost(_ text: String?) -> USDCost {
        text.flatMap { try? USDCost.parse($0, field: "amount") } ?? .zero
    }

    /// The thresholds in force for a subject: its rule's, or the defaults.
    static func thresholds(_ rule: AlertRuleRecord?) -> [Int] {
        rule?.thresholds ?? AlertRuleMath.defaultThresholds
    }

    static func candidates(_ inputs: AlertInputs) -> [AlertCandidate] {
        let monthText = month(of: inputs.now).text
        let hour = AlertRuleMath.hourStart(inputs.now)
        let hourText = AlertRuleMath.hourText(hour)
        var rules: [String: AlertRuleRecord] = [:]
        for rule in inputs.rules { rules["\(rule.subjectKind)|\(rule.subjectID)"] = rule }

        struct Subject {
            var kind: String
            var id: UUID
            var projectID: UUID?
            var name: String
            var budget: String?
            var spent: String?
        }
        var subjects: [Subject] = inputs.projects.map {
            Subject(kind: "project", id: $0.id, projectID: $0.id, name: $0.name, budget: $0.budgetUSD, spent: inputs.projectSpend[$0.id])
        }
        subjects += inputs.keys.map {
            Subject(kind: "api_key", id: $0.id, projectID: $0.projectID, name: $0.name, budget: $0.budgetUSD, spent: inputs.keySpend[$0.id])
        }

        var result: [AlertCandidate] = []
        for subject in subjects {
            let rule = rules["\(subject.kind)|\(subject.id)"]
            let spent = cost(subject.spent)
            if let budgetText = subject.budget {
                let budget = cost(budgetText)
                for pct in AlertRuleMath.crossedThresholds(spent: spent, budget: budget, thresholds: thresholds(rule)) {
                    result.append(AlertCandidate(
                        kind: .budgetThreshold, subjectKind: subject.kind, subjectID: subject.id, projectID: subject.projectID,
                        subjectName: subject.name, period: monthText, threshold: pct, observedUSD: spent.description,
                        limitUSD: budget.description))
                }
                if rule?.forecast == true {
                    var daily: [Int: USDCost] = [:]
                    for (day, text) in inputs.dailySpend[subject.id] ?? [:] { daily[day] = cost(text) }
                    let forecast = SpendForecaster.forecast(monthToDate: spent, dailySpend: daily,
                                                            firstUsageDay: inputs.firstUsageDay[subject.id], asOf: inputs.now)
                    if AlertRuleMath.forecastExceeds(forecast, budget: budget) {
                        result.append(AlertCandidate(
                            kind: .budgetForecast, subjectKind: subject.kind, subjectID: subject.id, projectID: subject.projectID,
                            subjectName: subject.name, period: monthText, threshold: 100,
                            observedUSD: forecast.projected.rounded(toPlaces: 6).description, limitUSD: budget.description,
                            extra: ["month_to_date_usd": spent.description, "method": forecast.method.rawValue,
                                    "low_usd": forecast.low.rounded(toPlaces: 6).description,
                                    "high_usd": forecast.high.rounded(toPlaces: 6).description]))
                    }
                }
            }
            if let rule, let factorText = rule.spikeFactor, let factor = AlertRuleMath.factorTenThousandths(factorText),
               let window = inputs.windows[subject.id]
            {
                let previous = inputs.spikedLastHour.contains(subject.id) ? USDCost.zero : cost(window.previous)
                let hourSpend = AlertRuleMath.lastHourSpend(current: cost(window.current), previous: previous,
                                                            secondsIntoHour: Int(inputs.now.timeIntervalSince(hour)))
                if let spike = AlertRuleMath.spike(hourSpend: hourSpend, baselineTotal: cost(window.baseline), factorE4: factor,
                                                   minimum: cost(rule.spikeMinUSD)) {
                    result.append(AlertCandidate(
                        kind: .costSpike, subjectKind: subject.kind, subjectID: subject.id, projectID: subject.projectID,
                        subjectName: subject.name, period: hourText, threshold: 0, observedUSD: hourSpend.description,
                        limitUSD: spike.threshold.description, baselineUSD: spike.baselineMean.description,
                        extra: ["spike_factor": factorText, "spike_min_usd": rule.spikeMinUSD ?? "0"]))
                }
            }
        }
        return result
    }

    /// A crossing the proxy recorded in `budget_events`, as a candidate — or nil when the
    /// subject's rule does not alert on that threshold (a rule replaces the defaults).
    static func candidate(fromBudgetEvent event: AlertRepository.PendingBudgetEvent, rules: [AlertRuleRecord],
                          names: [UUID: String]) -> AlertCandidate? {
        let rule = rules.first { $0.subjectKind == event.subjectKind && $0.subjectID == event.subjectID }
        guard thresholds(rule).contains(event.thresholdPct) else { return nil }
        return AlertCandidate(
            kind: .budgetThreshold, subjectKind: event.subjectKind, subjectID: event.subjectID, projectID: event.projectID,
            subjectName: names[event.subjectID] ?? "", period: monthPeriod(event.period), threshold: event.thresholdPct,
            observedUSD: ProjectRepositoryText.trim(event.spentUSD), limitUSD: ProjectRepositoryText.trim(event.limitUSD))
    }
}

extension AlertPlanner {
    /// A budget event's period as the month's first day (`YYYY-MM-01`): the proxy records the
    /// month start, and the alert key must match the evaluator's own month period exactly.
    static func monthPeriod(_ period: String) -> String {
        period.count >= 10 ? String(period.prefix(8)) + "01" : period
    }
}

/// Trailing zeros off a NUMERIC's text ("80.500000" → "80.5").
enum ProjectRepositoryText {
    static func trim(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
