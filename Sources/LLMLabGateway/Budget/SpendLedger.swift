import Foundation
import LLMLabCore
import Logging

/// Month-to-date spend of one budget subject (a project or an API key) in this process,
/// with the reservations of the requests in flight, so that admission is atomic.
///
/// Why an in-process actor and not a PostgreSQL row lock: the proxy must decide before
/// every upstream call, and a database round trip (plus a lock held for the whole upstream
/// call, or a reservation row written and deleted per request) would add latency and load
/// to the hot path and make the database a hard dependency of every request. An actor
/// serialises the check-and-reserve step (no `await` between reading the balance and
/// adding the reservation), so concurrent requests in one server cannot overshoot the
/// limit by more than one request's worst-case cost (the worst case is what is reserved;
/// only a response that reports more tokens than the estimate can exceed it).
///
/// Spend is loaded from the rollups (`usage_hourly` for a project, `usage_key_monthly`
/// for a key) and refreshed every ``refreshInterval``; costs settled here since the last
/// load are added locally, and a refresh keeps `max(database, local)` so that events still
/// in the usage writer's queue (or spool) are never forgotten.
///
/// Multi-server limitation: each server reserves only against its own in-flight requests
/// and sees the others' spend only when it refreshes (up to ``refreshInterval`` late, or
/// later while their events wait in a spool). With N servers the overshoot is bounded by
/// roughly N × (in-flight worst cases + spend within one refresh interval). A strict global
/// bound needs a shared ledger (a row lock or an atomic counter), left for later.
actor SpendLedger {
    enum Kind: String, Sendable {
        case project
        case apiKey = "api_key"
    }

    struct Loaded: Sendable {
        /// The limit stored in the database (projects); nil for keys, whose limit comes with
        /// the authenticated key on every request.
        var limit: USDAmount?
        var name: String
        /// Exact decimal text (see ``Crossing`` on why no `USDCost` crosses an `await`).
        var spent: String
        var recordedThresholds: Set<Int>
    }

    enum Decision: Sendable {
        case unlimited
        case reserved(UInt64)
        case exceeded(committed: String, limit: String, name: String, crossing: Crossing?)
    }

    /// A threshold crossed for the first time in a period; the caller records it (awaited,
    /// not detached, so no write outlives the request). Rare: three per budget and month.
    ///
    /// Amounts are carried as decimal text: exact, and no 128-bit integer has to live in an
    /// async frame across a suspension point (that crashed this toolchain on Linux).
    struct Crossing: Sendable {
        var pct: Int
        var spent: String
        var limit: String
        var period: Date
    }

    /// Whose budget: the ids the store needs.
    struct Subject: Sendable, Hashable {
        var kind: Kind
        var tenantID: UUID
        var projectID: UUID
        /// The project id or the API key id.
        var id: UUID
        /// A key's name (projects load theirs).
        var keyName: String = ""
    }

    static let thresholds = [50, 80, 100]

    let subject: Subject
    let store: BudgetStore
    var kind: Kind { subject.kind }
    let refreshInterval: Duration
    let reservationLifetime: Duration
    let logger: Logger

    private var month: Date?
    private var base = USDCost.zero
    private var settledSinceLoad = USDCost.zero
    private var limit: USDAmount?
    private var name = ""
    private var loadedAt: ContinuousClock.Instant?
    private var loading: Task<Loaded, any Error>?
    private var loadSeq: UInt64 = 0
    private var appliedSeq: UInt64 = 0
    private var reservations: [UInt64: (amount: USDCost, expires: ContinuousClock.Instant)] = [:]
    private var nextID: UInt64 = 0
    private var recorded: Set<Int> = []

    init(subject: Subject, store: BudgetStore, refreshInterval: Duration, reservationLifetime: Duration, logger: Logger) {
        self.subject = subject
        self.store = store
        self.refreshInterval = refreshInterval
        self.reservationLifetime = reservationLifetime
        self.logger = logger
    }

    /// Settled spend plus the reservations in flight.
    var committed: USDCost { base + settledSinceLoad + reservations.values.reduce(USDCost.zero) { $0 + $1.amount } }
    var spent: USDCost { base + settledSinceLoad }
    var inFlight: Int { reservations.count }

    /// Reserves `amount` (exact decimal text) unless that would take the month's spend plus
    /// what is in flight over the limit (`keyLimit` for keys, the loaded project budget
    /// otherwise). Nothing left (committed ≥ limit) refuses even a zero reservation.
    ///
    /// Call ``ensureFresh(now:)`` first; this method never suspends, so check-and-reserve
    /// is atomic. (It is also where the `USDCost` arithmetic happens: on this toolchain a
    /// 128-bit integer kept in an async frame across a suspension crashed on Linux, so
    /// amounts cross `await`s as decimal text and are computed in synchronous code.)
    func reserve(_ amountText: String, keyLimit: USDAmount?) -> Decision {
        let amount = (try? USDCost.parse(amountText, field: "amount")) ?? .zero
        if let keyLimit { limit = keyLimit }
        guard let limit else { return .unlimited }
        let clock = ContinuousClock.now
        reservations = reservations.filter { $0.value.expires > clock }
        let limitCost = USDCost(microUSD: limit.micros)
        let committed = self.committed
        if committed + amount > limitCost || committed >= limitCost {
            var crossing: Crossing?
            if !recorded.contains(100), let month {
                recorded.insert(100)
                crossing = Crossing(pct: 100, spent: spent.description, limit: limit.description, period: month)
            }
            return .exceeded(committed: committed.description, limit: limit.description, name: name, crossing: crossing)
        }
        nextID += 1
        reservations[nextID] = (amount, clock + reservationLifetime)
        return .reserved(nextID)
    }

    /// Releases a reservation and adds the request's real cost (zero when unpriced or
    /// failed); records each threshold the settled spend crosses for the first time.
    func settle(_ id: UInt64, actual actualText: String?) -> [Crossing] {
        reservations.removeValue(forKey: id)
        settledSinceLoad += actualText.flatMap { try? USDCost.parse($0, field: "cost") } ?? .zero
        guard let limit, limit.micros > 0, let month else { return [] }
        let spent = self.spent
        let limitCost = USDCost(microUSD: limit.micros)
        var crossings: [Crossing] = []
        for pct in Self.thresholds where !recorded.contains(pct) && spent * 100 >= limitCost * pct {
            recorded.insert(pct)
            crossings.append(Crossing(pct: pct, spent: spent.description, limit: limit.description, period: month))
        }
        return crossings
    }

    /// Starts a new period at a month boundary and re-reads spend when it is older than
    /// ``refreshInterval``.
    func ensureFresh(now: Date) async throws {
        let (start, end) = Self.month(containing: now)
        if month != start {
            month = start
            base = .zero
            settledSinceLoad = .zero
            loadedAt = nil
            recorded = []
        }
        if let loadedAt, ContinuousClock.now - loadedAt < refreshInterval { return }
        if let loading {
            // Another request is loading: wait for it only if nothing is known yet. Whoever
            // resumes first applies the result (resumption order is not defined).
            guard loadedAt == nil else { return }
            let seq = loadSeq
            let loaded = try await loading.value
            if appliedSeq < seq, month == start { apply(loaded, seq: seq) }
            return
        }
        let (store, subject) = (self.store, self.subject)
        let task = Task { try await store.load(subject, monthStart: start, monthEnd: end) }
        loading = task
        loadSeq += 1
        let seq = loadSeq
        do {
            let loaded = try await task.value
            if loadSeq == seq { loading = nil }
            if appliedSeq < seq, month == start { apply(loaded, seq: seq) }
        } catch {
            if loadSeq == seq { loading = nil }
            if loadedAt == nil { throw error }
            // Keep the last known spend and retry after another interval.
            loadedAt = .now
            logger.warning("could not refresh budget spend; enforcing with the last known figures",
                           metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func apply(_ loaded: Loaded, seq: UInt64) {
        appliedSeq = seq
        let local = base + settledSinceLoad
        let stored = (try? USDCost.parse(loaded.spent, field: "spent")) ?? .zero
        base = max(stored, local)
        settledSinceLoad = .zero
        if kind == .project { limit = loaded.limit }
        name = loaded.name
        recorded.formUnion(loaded.recordedThresholds)
        loadedAt = .now
    }

    /// The UTC calendar month containing `date`: [start, next month's start).
    static func month(containing date: Date) -> (Date, Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: date)
        let start = calendar.date(from: parts)!
        let end = calendar.date(byAdding: .month, value: 1, to: start)!
        return (start, end)
    }
}
