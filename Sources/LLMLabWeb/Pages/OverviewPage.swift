import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `/ui`: this month's spend against budget per project, with the month-end forecast
/// and its range, the tenant's totals, and the latest alerts (with how their deliveries stand). Three RPCs, run
/// concurrently, all answered from the hourly rollup (or small tables).
extension DashboardController {
    func overview(_ session: DashboardSession) async throws -> HTML {
        let now = Date()
        let filter = Llmlab_V1_AnalyticsFilter.with {
            $0.since = UTCTime.timestamp(UTCTime.monthStart(now))
            $0.until = UTCTime.timestamp(UTCTime.hourCeiling(now))
        }
        async let forecast = rpc.analytics.forecast(.init(), metadata: session.metadata, options: rpc.options)
        async let month = rpc.analytics.queryCost(.with { $0.filter = filter }, metadata: session.metadata, options: rpc.options)
        async let alerts = rpc.alerts.listAlerts(.with { $0.limit = 10 }, metadata: session.metadata, options: rpc.options)
        let view = OverviewView(forecasts: try await forecast.forecasts, month: try await month.total,
                                alerts: try await alerts.alerts, monthStart: UTCTime.monthStart(now))
        return Layout.page(title: "Overview", section: .overview, session: session, content: view.render())
    }
}

struct OverviewView {
    var forecasts: [Llmlab_V1_ProjectForecast]
    var month: Llmlab_V1_CostTotals
    var alerts: [Llmlab_V1_Alert]
    var monthStart: Date

    func render() -> HTML {
        let projected = DecimalSum.sum(forecasts.map(\.projectedMonthEndUsd))
        let budgets = forecasts.map(\.budgetUsd).filter { !$0.isEmpty }
        let atRisk = forecasts.filter(\.forecastToExceedBudget).count
        let monthName = UTCTime.day(monthStart).prefix(7)
        let cards: HTML = """
        <section class="cards">\
        <div class="card"><h3>Spend this month</h3><p class="figure">\(Money.html(month.costUsd, id: "spend-month-total"))</p>\
        <p class="sub">since \(String(monthName))-01 UTC</p></div>\
        <div class="card"><h3>Forecast month end</h3><p class="figure">\(Money.html(projected, id: "forecast-month-total"))</p>\
        <p class="sub">\(forecasts.count) project\(forecasts.count == 1 ? "" : "s")</p></div>\
        <div class="card"><h3>Budgeted</h3><p class="figure">\(Money.html(budgets.isEmpty ? "" : DecimalSum.sum(budgets), id: "budget-total"))</p>\
        <p class="sub \(atRisk > 0 ? "warn" : "")" data-testid="projects-at-risk">\(atRisk) forecast to exceed</p></div>\
        <div class="card"><h3>Requests</h3><p class="figure num" data-testid="requests-month">\(Money.count(month.requests))</p>\
        <p class="sub">\(Money.count(month.errors)) errors · \(Money.count(month.unpricedRequests)) unpriced</p></div>\
        </section>
        """
        return """
        <h1>Overview</h1>\(cards)
        <section><h2>Budgets and forecast</h2>\(projectTable())</section>
        <section><h2>Recent alerts</h2>\(AlertsView.alertTable(alerts, testID: "overview-alerts"))\
        <p><a href="/ui/alerts">All alerts, rules and deliveries</a></p></section>
        """
    }

    func projectTable() -> HTML {
        guard !forecasts.isEmpty else { return Layout.empty("No projects yet. Create one under Settings → Projects.") }
        let rows = forecasts.map { forecast -> HTML in
            let budget = forecast.budgetUsd.isEmpty ? nil : Money.approximate(forecast.budgetUsd)
            let over = budget.map { Money.approximate(forecast.monthToDateUsd) > $0 } ?? false
            let status: HTML = over ? "<span class=\"pill bad\">over budget</span>"
                : forecast.forecastToExceedBudget ? "<span class=\"pill warn\">forecast to exceed</span>"
                : budget == nil ? "<span class=\"pill muted\">no budget</span>" : "<span class=\"pill ok\">on track</span>"
            let id = forecast.projectID
            return """
            <tr data-testid="project-row" data-project-id="\(id)"><td>\(forecast.projectName)</td>\
            <td class="num">\(Money.html(forecast.monthToDateUsd, id: "spend-\(id)"))</td>\
            <td class="num">\(Money.html(forecast.budgetUsd, id: "budget-\(id)"))</td>\
            <td class="num">\(Money.html(forecast.projectedMonthEndUsd, id: "forecast-\(id)"))</td>\
            <td class="num range">\(Money.html(forecast.lowUsd)) – \(Money.html(forecast.highUsd))</td>\
            <td>\(Charts.budgetBar(monthToDate: Money.approximate(forecast.monthToDateUsd),
                                   projected: Money.approximate(forecast.projectedMonthEndUsd),
                                   low: Money.approximate(forecast.lowUsd), high: Money.approximate(forecast.highUsd),
                                   budget: budget, testID: "budget-bar-\(id)"))</td>\
            <td>\(status)</td><td class="muted" title="\(forecast.historyDays) days of history">\(forecast.method)</td></tr>
            """
        }
        return """
        <table class="data" data-testid="forecast-table"><thead><tr><th>Project</th><th class="num">This month</th>\
        <th class="num">Budget</th><th class="num">Forecast</th><th class="num">Range</th><th>Spend · range · forecast | budget</th>\
        <th>Status</th><th>Method</th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }
}
