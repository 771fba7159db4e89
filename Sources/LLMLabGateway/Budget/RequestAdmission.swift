import Foundation
import HTTPTypes
import LLMLabCore
import LLMLabStore
import Logging
import Synchronization

/// Admission control before any upstream call: the key's RPM/TPM limits, then the
/// project's and the key's monthly budgets (reserve the request's worst-case cost; the
/// usage meter settles it with the real cost). See ``SpendLedger`` for the concurrency
/// design and its multi-server limitation.
///
/// Worst case of a request: its prompt estimated from the body size
/// (``BudgetConfiguration/promptBytesPerToken`` bytes per token, rounded up — generous
/// for JSON chat bodies, since a token is ~4 characters of English and the body carries
/// keys and punctuation too) priced as uncached input, plus `max_completion_tokens` /
/// `max_tokens` (or ``BudgetConfiguration/defaultMaxOutputTokens``) priced as output,
/// with the catalog and the tenant's overrides for the requested model at that time
/// (long-context tiers included). A model the proxy cannot price reserves
/// ``BudgetConfiguration/unknownModelReserveUSD`` (zero by default: its usage is stored
/// unpriced and does not count towards budgets).
final class RequestAdmission: Sendable {
    let database: Database
    let configuration: BudgetConfiguration
    let overrides: PriceOverrideCache
    let logger: Logger
    let rateLimiter = RateLimiter()
    let store: BudgetStore
    private let ledgers = Mutex([SpendLedger.Subject: SpendLedger]())

    init(database: Database, configuration: BudgetConfiguration, overrides: PriceOverrideCache, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.overrides = overrides
        self.logger = logger
        self.store = BudgetStore(database: database, logger: logger)
    }

    /// What a request may use at most.
    struct Estimate: Sendable {
        var promptTokens: Int
        /// The client's `max_completion_tokens` / `max_tokens`, if any.
        var requestedMaxOutput: Int?
        var maxOutputTokens: Int
    }

    func estimate(bodyBytes: Int, requestedMaxOutput: Int?) -> Estimate {
        let perToken = max(1, configuration.promptBytesPerToken)
        return Estimate(promptTokens: (bodyBytes + perToken - 1) / perToken, requestedMaxOutput: requestedMaxOutput,
                        maxOutputTokens: requestedMaxOutput ?? configuration.defaultMaxOutputTokens)
    }

    /// The worst-case cost of a request, exactly, as decimal text.
    func worstCase(_ estimate: Estimate, provider: Provider, model: String, tenantID: UUID, at time: Date) async -> String {
        let overrides = await self.overrides.overrides(tenantID: tenantID)
        return Self.worstCase(estimate, provider: provider, model: model, at: time, overrides: overrides,
                              unknownModelReserve: configuration.unknownModelReserveUSD)
    }

    /// The largest of exact decimal amounts (text), "0" for none.
    static func largest(_ amounts: [String]) -> String {
        var best = USDCost.zero
        for amount in amounts {
            if let value = try? USDCost.parse(amount, field: "cost"), value > best { best = value }
        }
        return best.description
    }

    static func worstCase(_ estimate: Estimate, provider: Provider, model: String, at time: Date, overrides: [PriceOverride],
                          unknownModelReserve: String) -> String {
        let usage = TokenUsage(uncachedInput: estimate.promptTokens, output: estimate.maxOutputTokens)
        switch CostCalculator.cost(provider: provider, model: model, usage: usage, at: time, overrides: overrides) {
        case .priced(let total, _, _): return total.description
        case .unpriced: return ((try? USDCost.parse(unknownModelReserve, field: "unknown_model_reserve_usd")) ?? .zero).description
        }
    }

    /// Admits the request or throws the 429 that says why. The returned ticket must be
    /// settled (the usage meter does it; error paths before the upstream call release it).
    func admit(key: VirtualKey, provider: Provider, model: String, estimate: Estimate, at time: Date) async throws -> AdmissionTicket {
        try await admit(key: key, candidates: [(provider, model)], estimate: estimate, at: time)
    }

    /// ``admit(key:provider:model:estimate:at:)`` for a call that may be served by any of
    /// `candidates` (a route's deployments): reserves the most expensive one's worst case.
    func admit(key: VirtualKey, candidates: [(provider: Provider, model: String)], estimate: Estimate,
               at time: Date) async throws -> AdmissionTicket {
        let tpmEntry = try rateLimiter.admit(
            keyID: key.keyID, keyName: key.keyName, rpm: key.limits.rpm, tpm: key.limits.tpm,
            estimatedTokens: estimate.promptTokens + (estimate.requestedMaxOutput ?? 0))
        let ticket = AdmissionTicket(keyID: key.keyID, tpmEntry: tpmEntry, rateLimiter: rateLimiter)
        let overrides = await self.overrides.overrides(tenantID: key.tenantID)
        let cost = Self.largest(candidates.map {
            Self.worstCase(estimate, provider: $0.provider, model: $0.model, at: time, overrides: overrides,
                           unknownModelReserve: configuration.unknownModelReserveUSD)
        })
        do {
            let project = projectLedger(key)
            try await reserve(on: project, cost: cost, keyLimit: nil, ticket: ticket, what: .project)
            if let keyBudget = key.limits.monthlyBudget {
                try await reserve(on: keyLedger(key), cost: cost, keyLimit: keyBudget, ticket: ticket, what: .apiKey)
            }
        } catch {
            await ticket.settle(cost: nil, tokens: nil)
            throw error
        }
        return ticket
    }

    private func reserve(on ledger: SpendLedger, cost: String, keyLimit: USDAmount?, ticket: AdmissionTicket,
                         what: SpendLedger.Kind) async throws {
        try await ledger.ensureFresh(now: Date())
        switch await ledger.reserve(cost, keyLimit: keyLimit) {
        case .unlimited:
            return
        case .reserved(let id):
            ticket.add(ledger: ledger, reservation: id, store: store)
        case .exceeded(let committed, let limit, let name, let crossing):
            if let crossing { await store.recordThreshold(ledger.subject, crossing) }
            let subject: String
            let raise: String
            switch what {
            case .project:
                subject = "project '\(name)'"
                raise = "raise it with 'llmlab-admin project update … --budget'"
            case .apiKey:
                subject = "API key '\(name)'"
                raise = "create a key with a larger 'llmlab-admin apikey create … --budget'"
            }
            throw GatewayError(
                .tooManyRequests, .budgetExceeded,
                "\(subject) monthly budget: spent $\(committed) + this request up to $\(cost) would exceed the limit $\(limit); \(raise) or wait for next month",
                code: "budget_exceeded")
        }
    }

    func projectLedger(_ key: VirtualKey) -> SpendLedger {
        ledger(SpendLedger.Subject(kind: .project, tenantID: key.tenantID, projectID: key.projectID, id: key.projectID))
    }

    func keyLedger(_ key: VirtualKey) -> SpendLedger {
        ledger(SpendLedger.Subject(kind: .apiKey, tenantID: key.tenantID, projectID: key.projectID, id: key.keyID,
                                   keyName: key.keyName))
    }

    private func ledger(_ subject: SpendLedger.Subject) -> SpendLedger {
        var lookup = subject
        lookup.keyName = ""
        if let existing = ledgers.withLock({ $0[lookup] }) { return existing }
        let created = SpendLedger(subject: subject, store: store, refreshInterval: configuration.refreshInterval,
                                  reservationLifetime: configuration.reservationLifetime, logger: logger)
        return ledgers.withLock { ledgers in
            if let existing = ledgers[lookup] { return existing }
            ledgers[lookup] = created
            return created
        }
    }
}

/// Reads month-to-date spend and records threshold crossings, in the subject's tenant schema.
final class BudgetStore: Sendable {
    let database: Database
    let logger: Logger

    init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    func load(_ subject: SpendLedger.Subject, monthStart: Date, monthEnd: Date) async throws -> SpendLedger.Loaded {
        let logger = self.logger
        return try await database.withTenantTransaction(TenantScope(tenantID: subject.tenantID)) { connection in
            let budgets = BudgetRepository(connection, logger: logger)
            let recorded = try await budgets.recordedThresholds(subjectKind: subject.kind.rawValue, subjectID: subject.id, period: monthStart)
            switch subject.kind {
            case .project:
                let (budget, spent) = try await budgets.projectSpend(projectID: subject.id, from: monthStart, to: monthEnd)
                let name = try await ProjectRepository(connection, logger: logger).find(id: subject.id)?.name
                return SpendLedger.Loaded(
                    limit: try budget.map { try USDAmount.parse($0, field: "monthly_budget_usd") },
                    name: name ?? subject.id.uuidString.lowercased(), spent: spent, recordedThresholds: recorded)
            case .apiKey:
                let spent = try await budgets.keySpend(apiKeyID: subject.id, month: monthStart)
                return SpendLedger.Loaded(limit: nil, name: subject.keyName, spent: spent, recordedThresholds: recorded)
            }
        }
    }

    func recordThreshold(_ subject: SpendLedger.Subject, _ crossing: SpendLedger.Crossing) async {
        let (pct, spent, limit, period) = (crossing.pct, crossing.spent, crossing.limit, crossing.period)
        let logger = self.logger
        do {
            let inserted: Bool = try await database.withTenantTransaction(TenantScope(tenantID: subject.tenantID)) { connection in
                try await BudgetRepository(connection, logger: logger).recordThreshold(
                    subjectKind: subject.kind.rawValue, subjectID: subject.id, projectID: subject.projectID, period: period,
                    thresholdPct: pct, spentUSD: spent, limitUSD: limit)
            }
            guard inserted else { return }
            logger.notice("budget threshold crossed", metadata: [
                "subject": "\(subject.kind.rawValue):\(subject.id.uuidString.lowercased())", "threshold_pct": "\(pct)",
                "spent_usd": "\(spent)", "limit_usd": "\(limit)"])
        } catch {
            logger.warning("could not record a budget threshold", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

/// One admitted request's holds: budget reservations and its TPM entry. Settled exactly
/// once — by the usage meter with the real cost and tokens, or released on an error path.
final class AdmissionTicket: Sendable {
    private struct State {
        var holds: [(SpendLedger, UInt64)] = []
        var store: BudgetStore?
        var settled = false
    }

    let keyID: UUID
    let tpmEntry: UInt64?
    let rateLimiter: RateLimiter
    private let state = Mutex(State())

    init(keyID: UUID, tpmEntry: UInt64?, rateLimiter: RateLimiter) {
        self.keyID = keyID
        self.tpmEntry = tpmEntry
        self.rateLimiter = rateLimiter
    }

    func add(ledger: SpendLedger, reservation: UInt64, store: BudgetStore) {
        state.withLock {
            $0.holds.append((ledger, reservation))
            $0.store = store
        }
    }

    /// Releases the reservations and counts `cost` (nil: unpriced or failed, counts zero);
    /// `tokens` replaces the TPM estimate when the provider reported usage.
    func settle(cost: String?, tokens: Int?) async {
        let taken: ([(SpendLedger, UInt64)], BudgetStore?)? = state.withLock { state in
            guard !state.settled else { return nil }
            state.settled = true
            return (state.holds, state.store)
        }
        guard let (holds, store) = taken else { return }
        for (ledger, id) in holds {
            for crossing in await ledger.settle(id, actual: cost) {
                await store?.recordThreshold(ledger.subject, crossing)
            }
        }
        if let tokens, let tpmEntry { rateLimiter.settle(keyID: keyID, entry: tpmEntry, tokens: tokens) }
    }
}
