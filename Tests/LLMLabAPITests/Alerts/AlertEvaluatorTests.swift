import Foundation
import GRPCCore
@testable import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import SwiftProtobuf
import Testing

/// The evaluator's decisions on synthetic rollup data, at fixed clock times.
@Suite("Alert evaluator")
struct AlertEvaluatorTests {
    typealias F = AlertFixtures

    @Test("default 50/80/100 on a project budget: each threshold once per month; a new month starts over")
    func defaultThresholdsOncePerPeriod() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-default")
            let (project, key) = try await F.project(cp, t, name: "bot", budget: "100")
            let evaluator = F.evaluator(cp)
            let now = F.date(2026, 3, 10, 12, 5)

            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 3, 2, 9), cost: "49.999999")
            var report = await evaluator.runOnce(now: now)
            #expect(report.fired == 0)
            #expect(report.failedTenants == 0)

            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 3, 3, 9), cost: "0.000001")
            report = await evaluator.runOnce(now: now)
            #expect(report.fired == 1)
            // Nothing changed: the tenant is skipped without evaluation.
            report = await evaluator.runOnce(now: now)
            #expect(report.unchanged == 1 && report.evaluated == 0)

            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 3, 4, 9), cost: "35")
            report = await evaluator.runOnce(now: now)
            #expect(report.fired == 1)
            var events = try await F.events(cp, t)
            #expect(events.map(\.threshold) == [50, 80])
            #expect(events.allSatisfy { $0.kind == "budget_threshold" && $0.subjectKind == "project" && $0.period == "2026-03-01" })
            #expect(events.last?.observedUSD == "85")
            #expect(events.last?.limitUSD == "100")
            #expect(events.last?.subjectName == "bot")

            // A fresh evaluator (another server, or a restart) does not fire them again.
            report = await F.evaluator(cp).runOnce(now: now)
            #expect(report.evaluated == 1 && report.fired == 0)

            // April: spend starts from zero; 60 crosses 50 again, for the new period.
            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 4, 1, 1), cost: "60")
            report = await evaluator.runOnce(now: F.date(2026, 4, 1, 2))
            #expect(report.fired == 1)
            events = try await F.events(cp, t)
            #expect(events.map(\.period) == ["2026-03-01", "2026-03-01", "2026-04-01"])
            #expect(events.last?.threshold == 50)
            #expect(events.last?.observedUSD == "60")
        }
    }

    @Test("the change check notices budgets set later, on projects and on keys, and new rules")
    func changeCheckSeesBudgetsAndRules() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-changes")
            let (project, key) = try await F.project(cp, t, name: "p", budget: nil)
            let evaluator = F.evaluator(cp)
            let now = F.date(2026, 10, 20, 9)
            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 10, 19), cost: "60")
            #expect(await evaluator.runOnce(now: now).fired == 0)
            #expect(await evaluator.runOnce(now: now).unchanged == 1)

            _ = try await cp.projects.updateProject(.with { $0.id = project.uuidString; $0.monthlyBudgetUsd = "100" }, metadata: t.ownerAuth)
            #expect(await evaluator.runOnce(now: now).fired == 1)

            _ = try await cp.auth.updateApiKey(.with { $0.id = key.uuidString; $0.monthlyBudgetUsd = "70" }, metadata: t.ownerAuth)
            #expect(await evaluator.runOnce(now: now).fired == 2)  // the key: 50 and 80

            try await F.rule(cp, t, subject: project, thresholds: [55])
            #expect(await evaluator.runOnce(now: now).fired == 1)
            let events = try await F.events(cp, t)
            #expect(events.map { "\($0.subjectKind):\($0.threshold)" }.sorted() == ["api_key:50", "api_key:80", "project:50", "project:55"])
        }
    }

    @Test("a rule replaces the thresholds: 25 and 90 fire, 50 and 80 do not")
    func customThresholds() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-custom")
            let (project, key) = try await F.project(cp, t, name: "p", budget: "200")
            try await F.rule(cp, t, subject: project, thresholds: [25, 90])
            let evaluator = F.evaluator(cp)
            let now = F.date(2026, 5, 20, 8)
            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 5, 19), cost: "170")
            _ = await evaluator.runOnce(now: now)
            #expect(try await F.events(cp, t).map(\.threshold) == [25])
            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 5, 19), cost: "10")
            _ = await evaluator.runOnce(now: now)
            #expect(try await F.events(cp, t).map(\.threshold) == [25, 90])
        }
    }

    @Test("API key budgets alert per key, from usage_key_monthly")
    func keyThresholds() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-key")
            let (project, key) = try await F.project(cp, t, name: "p", budget: nil, keyBudget: "10")
            let evaluator = F.evaluator(cp)
            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 6, 2), cost: "8.5")
            _ = await evaluator.runOnce(now: F.date(2026, 6, 3))
            let events = try await F.events(cp, t)
            #expect(events.map(\.threshold) == [50, 80])
            #expect(events.allSatisfy { $0.subjectKind == "api_key" && $0.subjectID == key && $0.projectID == project })
            #expect(events.first?.subjectName == "p key")
            #expect(events.first?.limitUSD == "10")
        }
    }

    @Test("forecast to exceed: fires once a month when the projection passes the budget")
    func forecastToExceed() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-forecast")
            let (project, key) = try await F.project(cp, t, name: "steady", budget: "250")
            let (calm, calmKey) = try await F.project(cp, t, name: "calm", budget: "1000")
            try await F.rule(cp, t, subject: project, thresholds: [], forecast: true)
            try await F.rule(cp, t, subject: calm, thresholds: [], forecast: true)
            // $10 a day since 2026-06-20; on 2026-07-10 00:00 month-to-date is $90 and 22 days remain.
            for day in 0..<20 {
                let at = F.date(2026, 6, 20).addingTimeInterval(Double(day) * 86_400 + 3600)
                try await F.spend(cp, t, project: project, key: key, at: at, cost: "10")
                try await F.spend(cp, t, project: calm, key: calmKey, at: at, cost: "10")
            }
            let evaluator = F.evaluator(cp)
            _ = await evaluator.runOnce(now: F.date(2026, 7, 10))
            let events = try await F.events(cp, t)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.kind == "budget_forecast")
            #expect(event.subjectID == project)
            #expect(event.period == "2026-07-01")
            #expect(event.threshold == 100)
            #expect(event.observedUSD == "310")  // 90 + 22 × 10
            #expect(event.limitUSD == "250")
            // Later the same month: still one.
            try await F.spend(cp, t, project: project, key: key, at: F.date(2026, 7, 10, 1), cost: "10")
            _ = await evaluator.runOnce(now: F.date(2026, 7, 15))
            #expect(try await F.events(cp, t).count == 1)
        }
    }

    @Test("cost spike: the hour against k × the 7-day hourly mean, and the minimum")
    func spike() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-spike")
            let (project, key) = try await F.project(cp, t, name: "spiky", budget: nil)
            let (small, smallKey) = try await F.project(cp, t, name: "small", budget: nil)
            try await F.rule(cp, t, subject: project, thresholds: [], spikeFactor: "3", spikeMin: "1")
            try await F.rule(cp, t, subject: small, thresholds: [], spikeFactor: "3", spikeMin: "50")
            let hour = F.date(2026, 8, 12, 15)
            // Baseline: $168 over the previous 168 hours = $1/hour mean (spread over a few hours).
            for offset in [2, 30, 100, 160] {
                let at = hour.addingTimeInterval(-Double(offset) * 3600)
                try await F.spend(cp, t, project: project, key: key, at: at, cost: "42")
                try await F.spend(cp, t, project: small, key: smallKey, at: at, cost: "42")
            }
            // Older than the window: ignored.
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(-169 * 3600), cost: "10000")
            let evaluator = F.evaluator(cp)
            try await F.spend(cp, t, project: project, key: key, at: hour, cost: "3")  // = 3 × mean: not above it
            try await F.spend(cp, t, project: small, key: smallKey, at: hour, cost: "20")  // a spike, but under $50
            var report = await evaluator.runOnce(now: hour.addingTimeInterval(600))
            #expect(report.fired == 0)
            try await F.spend(cp, t, project: project, key: key, at: hour, cost: "0.01")
            report = await evaluator.runOnce(now: hour.addingTimeInterval(900))
            #expect(report.fired == 1)
            try await F.spend(cp, t, project: project, key: key, at: hour, cost: "5")
            report = await evaluator.runOnce(now: hour.addingTimeInterval(1200))
            #expect(report.fired == 0)  // once per hour
            let events = try await F.events(cp, t)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.kind == "cost_spike")
            #expect(event.subjectID == project)
            #expect(event.period == "2026-08-12T15:00:00Z")
            #expect(event.observedUSD == "3.01")
            #expect(event.baselineUSD == "1")
            #expect(event.limitUSD == "3")
        }
    }

    @Test("the last 60 minutes: the current hour plus the previous one pro rata")
    func lastHourWindow() async throws {
        #expect(AlertRuleMath.lastHourSpend(current: .zero, previous: USDCost(picoUSD: 6_000_000_000_000), secondsIntoHour: 1200)
                == USDCost(picoUSD: 4_000_000_000_000))
        #expect(AlertRuleMath.lastHourSpend(current: USDCost(picoUSD: 1), previous: USDCost(picoUSD: 9), secondsIntoHour: 3600)
                == USDCost(picoUSD: 1))
        #expect(AlertRuleMath.lastHourSpend(current: .zero, previous: USDCost(picoUSD: 7), secondsIntoHour: 1800)
                == USDCost(picoUSD: 4))  // 3.5 rounds half to even
        #expect(AlertRuleMath.lastHourSpend(current: .zero, previous: USDCost(picoUSD: 5), secondsIntoHour: 1800)
                == USDCost(picoUSD: 2))  // 2.5 rounds half to even

        // A burst across the top of the hour: $6 at 14:xx and $1 at 15:xx. At 15:20 the last
        // 60 minutes hold 1 + 6 × 40/60 = $5 > 3 × $1; at 15:50, 1 + 6 × 10/60 = $2: no spike.
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-window")
            let (project, key) = try await F.project(cp, t, name: "burst", budget: nil)
            try await F.rule(cp, t, subject: project, thresholds: [], spikeFactor: "3", spikeMin: "1")
            let hour = F.date(2026, 8, 12, 15)
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(-100 * 3600), cost: "162")
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(-1800), cost: "6")
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(60), cost: "1")
            // Baseline: (162 + 6) / 168 = $1 an hour.
            #expect(await F.evaluator(cp).runOnce(now: hour.addingTimeInterval(50 * 60)).fired == 0)
            #expect(await F.evaluator(cp).runOnce(now: hour.addingTimeInterval(20 * 60)).fired == 1)
            let events = try await F.events(cp, t)
            #expect(events.count == 1)
            #expect(events.allSatisfy { $0.kind == "cost_spike" && $0.observedUSD == "5" && $0.baselineUSD == "1" })
        }
    }

    @Test("a burst across the top of the hour alerts once, not once per hour it touches")
    func burstAcrossHoursAlertsOnce() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-burst")
            let (project, key) = try await F.project(cp, t, name: "burst", budget: nil)
            try await F.rule(cp, t, subject: project, thresholds: [], spikeFactor: "3", spikeMin: "1")
            let hour = F.date(2026, 8, 12, 15)
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(-100 * 3600), cost: "162")
            let evaluator = F.evaluator(cp)
            // $6 at 14:50: a spike for hour 14.
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(-600), cost: "6")
            #expect(await evaluator.runOnce(now: hour.addingTimeInterval(-300)).fired == 1)
            // 15:05, $1 more: the window still holds most of the $6, but that spike was announced.
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(120), cost: "1")
            #expect(await evaluator.runOnce(now: hour.addingTimeInterval(300)).fired == 0)
            // 15:10, a new burst of its own: $4 more in hour 15 alone is a spike again.
            try await F.spend(cp, t, project: project, key: key, at: hour.addingTimeInterval(540), cost: "4")
            #expect(await evaluator.runOnce(now: hour.addingTimeInterval(600)).fired == 1)
            #expect(try await F.events(cp, t).map(\.period) == ["2026-08-12T14:00:00Z", "2026-08-12T15:00:00Z"])
        }
    }

    @Test("a spike rule on an API key without a budget")
    func keySpike() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-key-spike")
            let (project, key) = try await F.project(cp, t, name: "p", budget: nil)
            try await F.rule(cp, t, kind: "api_key", subject: key, thresholds: [], spikeFactor: "2.5", spikeMin: "0.5")
            let hour = F.date(2026, 9, 1, 10)
            try await F.spend(cp, t, project: project, key: key, at: hour, cost: "0.75")
            _ = await F.evaluator(cp).runOnce(now: hour.addingTimeInterval(60))
            let events = try await F.events(cp, t)
            #expect(events.map(\.kind) == ["cost_spike"])
            #expect(events.first?.subjectKind == "api_key")
            #expect(events.first?.subjectName == "p key")
            #expect(events.first?.baselineUSD == "0")
        }
    }

    @Test("the proxy's budget event and the evaluator's own check alert once; a rule without 50 drops the proxy's 50")
    func proxyEventsAndEvaluatorDoNotDoubleAlert() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("eval-dedupe")
            _ = try await cp.alerts.createChannel(.with { $0.name = "a"; $0.url = "https://hooks.example/a" }, metadata: t.ownerAuth)
            _ = try await cp.alerts.createChannel(.with { $0.name = "b"; $0.url = "https://hooks.example/b" }, metadata: t.ownerAuth)
            let (project, key) = try await F.project(cp, t, name: "p", budget: "100")
            let (other, _) = try await F.project(cp, t, name: "q", budget: "100")
            try await F.rule(cp, t, subject: other, thresholds: [80])
            let now = Date()
            try await F.spend(cp, t, project: project, key: key, at: now, cost: "81")
            try await cp.database.database.withTenantTransaction(F.scope(t)) { connection in
                let budgets = BudgetRepository(connection, logger: TestControlPlane.logger)
                try await budgets.recordThreshold(subjectKind: "project", subjectID: project, projectID: project, period: now,
                                                  thresholdPct: 80, spentUSD: "80.5", limitUSD: "100")
                try await budgets.recordThreshold(subjectKind: "project", subjectID: other, projectID: other, period: now,
                                                  thresholdPct: 50, spentUSD: "50.5", limitUSD: "100")
            }
            let report = await F.evaluator(cp).runOnce(now: now)
            #expect(report.fired == 2)  // project: 50 and 80 (once, not twice); other: nothing (its rule has no 50)
            #expect(report.enqueued == 4)
            let events = try await F.events(cp, t)
            #expect(events.map(\.threshold).sorted() == [50, 80])
            #expect(events.allSatisfy { $0.subjectID == project })
            let deliveries = try await cp.alerts.listDeliveries(.init(), metadata: t.ownerAuth).deliveries
            #expect(deliveries.count == 4)
            #expect(deliveries.allSatisfy { $0.eventKind == "budget_threshold" })
            // The proxy's events are consumed: a second pass has nothing to do.
            #expect(await F.evaluator(cp).runOnce(now: now).fired == 0)
            // Audited as system:alerts.
            let audit = try await cp.audit.listAuditEvents(.with { $0.pageSize = 500 }, metadata: t.ownerAuth)
            let alertRows = audit.events.filter { $0.target.hasPrefix("alert:") }
            #expect(alertRows.count == 2)
            #expect(alertRows.allSatisfy { $0.actor == "system:alerts" })
        }
    }
}
