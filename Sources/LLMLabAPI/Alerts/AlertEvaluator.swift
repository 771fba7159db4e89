public import Foundation
import LLMLabCore
public import LLMLabStore
public import Logging
import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// Decides which alerts fire, for every tenant, every ``Configuration/interval`` (10 s by
/// default, so an alert fires well within a minute of the crossing), from the rollups only
/// (`usage_hourly`, `usage_key_monthly`, `usage_rollup_hourly`; never `usage_events`).
///
/// Rules (``AlertRuleMath``): budget thresholds per project and per API key (a rule's list,
/// or 50/80/100 % when the subject has no rule), the month-end forecast
/// (``SpendForecaster``'s central value above the budget, once a month) and cost spikes
/// (the spend of the last 60 minutes above factor × the mean hourly spend of the previous 7
/// days and at least a minimum, once per UTC hour; see ``AlertRuleMath/lastHourSpend``).
///
/// **One source of alerts.** Every alert is a row of `alert_events`, unique per (kind,
/// subject, period, threshold); deliveries are enqueued only by the transaction that
/// inserted the row, so an alert fires once per threshold per period however often (and on
/// however many servers) the evaluator runs. The proxy keeps recording its fixed 50/80/100 %
/// crossings in `budget_events` (they are its enforcement state, and it sees a crossing the
/// moment a request settles); the evaluator treats them as *input*: it claims the
/// undispatched ones, turns each into the same `alert_events` key its own threshold check
/// would produce (when the subject's rule still alerts at that percentage), and marks them
/// dispatched in the same transaction. A crossing seen by both paths therefore collides on
/// the unique key and alerts once. The webhook deliverer only sends; it no longer reads
/// `budget_events`.
///
/// **Idle tenants cost almost nothing.** Each pass first reads a one-row fingerprint
/// (``AlertInputRepository/fingerprint(month:)``: this month's per-key rollup totals, rule
/// and project change stamps, undispatched budget events) plus the tenant's key budgets and
/// the current hour; when it equals the last evaluated one, the tenant is skipped.
///
/// Every fired alert is audited in the tenant's log as `system:alerts`, in the transaction
/// that records it.
public final class AlertEvaluator: Service, Sendable {
    public struct Configuration: Sendable {
        public var interval: Duration = .seconds(10)
        /// Proxy budget events consumed per tenant per pass.
        public var budgetEventBatch: Int = 200

        public init() {}
    }

    /// What one pass did.
    public struct Report: Sendable, Hashable {
        public var evaluated = 0
        public var unchanged = 0
        public var fired = 0
        public var enqueued = 0
        public var failedTenants = 0
    }

    public let configuration: Configuration
    let database: Database
    let logger: Logger
    let auditor: Auditor
    private let fingerprints = Mutex([UUID: String]())

    public init(database: Database, configuration: Configuration = .init(), logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.auditor = Auditor(logger: logger)
    }

    public func run() async throws {
        let interval = configuration.interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await self.runOnce()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One pass over every active tenant; a tenant that fails is logged and retried next pass.
    @discardableResult
    public func runOnce(now: Date = Date()) async -> Report {
        var report = Report()
        let logger = self.logger
        let tenants: [TenantRecord]
        let keys: [AlertInputRepository.Key]
        do {
            (tenants, keys) = try await database.withControlTransaction { connection in
                let repository = TenantRepository(connection, logger: logger)
                var result: [TenantRecord] = []
                for scope in try await repository.allScopes() {
                    if let tenant = try await repository.find(id: scope.tenantID), tenant.status == .active { result.append(tenant) }
                }
                return (result, try await AlertInputRepository(connection, logger: logger).budgetedKeys())
            }
        } catch {
            logger.warning("alert evaluator could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return report
        }
        let keysByTenant = Dictionary(grouping: keys, by: \.tenantID)
        for tenant in tenants {
            if Task.isCancelled { break }
            do {
                guard let outcome = try await evaluate(tenant, budgetedKeys: keysByTenant[tenant.id] ?? [], now: now) else {
                    report.unchanged += 1
                    continue
                }
                report.evaluated += 1
                report.fired += outcome.fired
                report.enqueued += outcome.enqueued
            } catch {
                report.failedTenants += 1
                logger.warning("alert evaluation failed for a tenant",
                               metadata: ["tenant": "\(tenant.scope)", "error": "\(String(reflecting: error))"])
            }
        }
        // Forget tenants that are gone or suspended (a resumed one is evaluated afresh).
        let live = Set(tenants.map(\.id))
        fingerprints.withLock { $0 = $0.filter { live.contains($0.key) } }
        return report
    }

    /// Evaluates one tenant; nil when nothing changed since its last evaluation.
    func evaluate(_ tenant: TenantRecord, budgetedKeys: [AlertInputRepository.Key], now: Date) async throws
        -> (fired: Int, enqueued: Int)?
    {
        let logger = self.logger
        let month = AlertPlanner.month(of: now)
        let monthStart = Date(timeIntervalSince1970: Double(month.startDay) * 86_400)
        let hour = AlertRuleMath.hourStart(now)
        let keyStamp = budgetedKeys.map { "\($0.id):\($0.budgetUSD ?? "")" }.sorted().joined(separator: ",")
        let stored = try await database.withTenantTransaction(tenant.scope) { connection in
            try await AlertInputRepository(connection, logger: logger).fingerprint(month: monthStart)
        }
        let fingerprint = "\(stored)|\(keyStamp)|\(AlertRuleMath.hourText(hour))"
        if fingerprints.withLock({ $0[tenant.id] }) == fingerprint { return nil }

        let inputs = try await gather(tenant, budgetedKeys: budgetedKeys, now: now, monthStart: monthStart, hour: hour)
        let candidates = AlertPlanner.candidates(inputs)
        let outcome = try await record(candidates, inputs: inputs, tenant: tenant, now: now)
        fingerprints.withLock { $0[tenant.id] = fingerprint }
        return outcome
    }

    /// Reads what the rules need: spend for thresholds, hour windows for spike rules, daily
    /// history for forecast rules (only for the subjects whose rule asks for it).
    func gather(_ tenant: TenantRecord, budgetedKeys: [AlertInputRepository.Key], now: Date, monthStart: Date,
                hour: Date) async throws -> AlertInputs {
        let logger = self.logger
        let lastDay = SpendForecaster.monthBounds(containing: SpendForecaster.dayNumber(now)).last
        let monthEnd = Date(timeIntervalSince1970: Double(lastDay + 1) * 86_400)
        var inputs = try await database.withTenantTransaction(tenant.scope) { connection in
            let repository = AlertInputRepository(connection, logger: logger)
            var inputs = AlertInputs(now: now)
            inputs.rules = try await AlertRuleRepository(connection, logger: logger).list()
            inputs.projects = try await repository.liveProjects()
            inputs.projectSpend = try await repository.projectSpend(from: monthStart, to: monthEnd)
            inputs.keySpend = try await repository.keySpend(month: monthStart)
            return inputs
        }
        // Keys named by a rule but without a budget (spike rules) come from the control schema.
        let known = Set(budgetedKeys.map(\.id))
        let missing = inputs.rules.filter { $0.subjectKind == "api_key" && !known.contains($0.subjectID) }.map(\.subjectID)
        var keys = budgetedKeys
        if !missing.isEmpty {
            let tenantID = tenant.id
            keys += try await database.withControlTransaction { connection in
                try await AlertInputRepository(connection, logger: logger).keys(tenantID: tenantID, ids: missing)
            }
        }
        inputs.keys = keys
        let spikeProjects = inputs.rules.filter { $0.subjectKind == "project" && $0.spikeFactor != nil }.map(\.subjectID)
        let spikeKeys = inputs.rules.filter { $0.subjectKind == "api_key" && $0.spikeFactor != nil }.map(\.subjectID)
        let forecastProjects = inputs.rules.filter { $0.subjectKind == "project" && $0.forecast }.map(\.subjectID)
        let forecastKeys = inputs.rules.filter { $0.subjectKind == "api_key" && $0.forecast }.map(\.subjectID)
        guard !(spikeProjects + spikeKeys + forecastProjects + forecastKeys).isEmpty else { return inputs }
        let today = SpendForecaster.dayNumber(now)
        let windowStart = Date(timeIntervalSince1970: Double(today - SpendForecaster.windowDays) * 86_400)
        let todayStart = Date(timeIntervalSince1970: Double(today) * 86_400)
        let baselineHours = AlertRuleMath.baselineHours
        let previousHour = AlertRuleMath.hourText(hour.addingTimeInterval(-3600))
        let extra = try await database.withTenantTransaction(tenant.scope) { connection in
            let repository = AlertInputRepository(connection, logger: logger)
            let spiked = try await AlertEventRepository(connection, logger: logger).fired(periods: [previousHour])
            var windows: [UUID: AlertInputs.Window] = [:]
            for (subject, ids) in [(AlertInputRepository.Subject.project, spikeProjects), (.apiKey, spikeKeys)] {
                for (id, window) in try await repository.hourWindow(subject, ids: ids, hour: hour, baselineHours: baselineHours) {
                    windows[id] = AlertInputs.Window(current: window.current, previous: window.previous, baseline: window.baseline)
                }
            }
            let spikedLastHour = Set((spikeProjects + spikeKeys).filter {
                spiked.contains(AlertEventRepository.key(kind: "cost_spike", subjectID: $0, period: previousHour, threshold: 0))
            })
            var daily: [UUID: [Int: String]] = [:]
            var first: [UUID: Int] = [:]
            for (subject, ids) in [(AlertInputRepository.Subject.project, forecastProjects), (.apiKey, forecastKeys)] {
                daily.merge(try await repository.dailySpend(subject, ids: ids, since: windowStart, until: todayStart)) { a, _ in a }
                first.merge(try await repository.firstUsageDay(subject, ids: ids, windowStart: windowStart)) { a, _ in a }
            }
            return (windows, daily, first, spikedLastHour)
        }
        inputs.windows = extra.0
        inputs.dailySpend = extra.1
        inputs.firstUsageDay = extra.2
        inputs.spikedLastHour = extra.3
        return inputs
    }

    /// In one tenant transaction: consumes the proxy's budget events, records each due alert
    /// once, enqueues one delivery per enabled channel for each newly recorded one, audits it.
    func record(_ candidates: [AlertCandidate], inputs: AlertInputs, tenant: TenantRecord, now: Date) async throws
        -> (fired: Int, enqueued: Int)
    {
        let logger = self.logger
        let auditor = self.auditor
        let batch = configuration.budgetEventBatch
        let rules = inputs.rules
        var names: [UUID: String] = [:]
        for project in inputs.projects { names[project.id] = project.name }
        for key in inputs.keys { names[key.id] = key.name }
        let subjectNames = names
        let tenantID = tenant.id
        return try await database.withTenantTransaction(tenant.scope) { connection in
            let alerts = AlertRepository(connection, logger: logger)
            let events = AlertEventRepository(connection, logger: logger)
            var due = candidates
            let proxyEvents = try await alerts.claimUndispatchedBudgetEvents(limit: batch)
            for event in proxyEvents {
                if var candidate = AlertPlanner.candidate(fromBudgetEvent: event, rules: rules, names: subjectNames) {
                    candidate.extra["source"] = "proxy"
                    due.append(candidate)
                }
                try await alerts.markDispatched(event, at: now)
            }
            guard !due.isEmpty else { return (0, 0) }
            let already = try await events.fired(periods: Array(Set(due.map(\.period))))
            var channels: [AlertChannelRecord]?
            var fired = 0
            var enqueued = 0
            for candidate in due {
                let key = AlertEventRepository.key(kind: candidate.kind.rawValue, subjectID: candidate.subjectID,
                                                   period: candidate.period, threshold: candidate.threshold)
                if already.contains(key) { continue }
                let record = AlertEventRecord(
                    kind: candidate.kind.rawValue, subjectKind: candidate.subjectKind, subjectID: candidate.subjectID,
                    projectID: candidate.projectID, subjectName: candidate.subjectName, period: candidate.period,
                    threshold: candidate.threshold, observedUSD: candidate.observedUSD, limitUSD: candidate.limitUSD,
                    baselineUSD: candidate.baselineUSD, source: candidate.extra["source"] ?? "evaluator", firedAt: now)
                guard try await events.insertOnce(record) else { continue }
                fired += 1
                if channels == nil { channels = try await alerts.enabledChannels() }
                for channel in channels ?? [] {
                    let deliveryID = UUID()
                    let payload = try AlertPayload.json(AlertPayload(
                        event: candidate.kind.rawValue, deliveryID: deliveryID, tenantID: tenantID, occurredAt: now,
                        data: AlertEvaluator.payloadData(candidate, alertID: record.id)))
                    _ = try await alerts.enqueue(id: deliveryID, channelID: channel.id, eventKind: candidate.kind.rawValue,
                                                 payload: payload, alertEventID: record.id)
                    enqueued += 1
                }
                let context = CallContext(principal: nil, requestID: record.id.uuidString.lowercased(), peer: "",
                                          method: "llmlab.alerts/EvaluateAlerts")
                try await CallContext.$current.withValue(context) {
                    try await auditor.record(
                        on: connection, log: .tenant(tenant.scope), target: "alert:\(record.id.uuidString.lowercased())",
                        detail: ["kind": record.kind, "subject": "\(record.subjectKind):\(record.subjectID.uuidString.lowercased())",
                                 "period": record.period, "threshold": String(record.threshold),
                                 "observed_usd": record.observedUSD, "limit_usd": record.limitUSD ?? "",
                                 "channels": String(channels?.count ?? 0), "source": record.source],
                        actor: "system:alerts")
                }
            }
            return (fired, enqueued)
        }
    }

    /// The `data` object of a delivery: every figure as exact decimal text.
    static func payloadData(_ candidate: AlertCandidate, alertID: UUID) -> [String: String] {
        var data = candidate.extra
        data["alert_id"] = alertID.uuidString.lowercased()
        data["subject_kind"] = candidate.subjectKind
        data["subject_id"] = candidate.subjectID.uuidString.lowercased()
        data["subject_name"] = candidate.subjectName
        data["project_id"] = candidate.projectID?.uuidString.lowercased() ?? ""
        data["period"] = candidate.period
        switch candidate.kind {
        case .budgetThreshold:
            data["threshold_pct"] = String(candidate.threshold)
            data["spent_usd"] = candidate.observedUSD
            data["limit_usd"] = candidate.limitUSD ?? ""
        case .budgetForecast:
            data["projected_usd"] = candidate.observedUSD
            data["limit_usd"] = candidate.limitUSD ?? ""
        case .costSpike:
            data["last_hour_cost_usd"] = candidate.observedUSD
            data["baseline_hourly_usd"] = candidate.baselineUSD ?? "0"
            data["threshold_usd"] = candidate.limitUSD ?? ""
        }
        return data
    }
}
