public import Foundation
import LLMLabCore
public import Logging
public import PostgresNIO

/// The analytics rollup `usage_rollup_hourly` (tenant migration 0006): what it keys on, its
/// latency histogram and the SQL that keeps it current from freshly inserted events.
public enum UsageRollup {
    /// Upper bounds (ms) of the latency histogram's buckets; one more bucket, unbounded,
    /// follows. Bucket i holds latencies in [bound[i-1], bound[i]).
    public static let latencyBoundsMs: [Int64] = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000]
    public static var bucketCount: Int { latencyBoundsMs.count + 1 }
    /// Stands for "no route" in the key (a primary key column cannot be NULL).
    public static let noRoute = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    static var boundsArray: String { "ARRAY[\(latencyBoundsMs.map(String.init).joined(separator: ","))]" }

    /// An `INSERT … ON CONFLICT` adding the rows of the CTE `inserted` (usage events a
    /// statement actually inserted) to the hourly rollup; used inside the usage insert statement.
    static let upsertFromInserted = upsert(into: "usage_rollup_hourly", timeColumn: "hour")
    /// The same for the daily rollup `usage_rollup_daily` (tenant migration 0012).
    static let upsertDailyFromInserted = upsert(into: "usage_rollup_daily", timeColumn: "day")

    static func upsert(into table: String, timeColumn: String) -> String {
        let buckets = (0 ..< bucketCount).map {
            "count(*) FILTER (WHERE width_bucket(latency_ms, \(boundsArray)) = \($0))"
        }.joined(separator: ", ")
        let merged = (1 ... bucketCount).map { "r.latency_buckets[\($0)] + EXCLUDED.latency_buckets[\($0)]" }
            .joined(separator: ", ")
        return """
            INSERT INTO \(table) AS r (\(timeColumn), project_id, provider, model, api_key_id, route_id, requests, errors,
                    unpriced_requests, input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
                    output_tokens, reasoning_tokens, cost_usd, latency_ms_sum, latency_buckets)
                SELECT date_trunc('\(timeColumn)', occurred_at, 'UTC'), project_id, provider, model, api_key_id,
                       coalesce(route_id, '00000000-0000-0000-0000-000000000000'::uuid),
                       count(*), count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE NOT priced),
                       sum(input_tokens), sum(cached_input_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens),
                       sum(output_tokens), sum(reasoning_tokens), coalesce(sum(cost_usd), 0), sum(latency_ms::int8),
                       ARRAY[\(buckets)]::int8[]
                FROM inserted GROUP BY 1, 2, 3, 4, 5, 6
                ON CONFLICT (\(timeColumn), project_id, provider, model, api_key_id, route_id) DO UPDATE SET
                    requests = r.requests + EXCLUDED.requests,
                    errors = r.errors + EXCLUDED.errors,
                    unpriced_requests = r.unpriced_requests + EXCLUDED.unpriced_requests,
                    input_tokens = r.input_tokens + EXCLUDED.input_tokens,
                    cached_input_tokens = r.cached_input_tokens + EXCLUDED.cached_input_tokens,
                    cache_write_5m_tokens = r.cache_write_5m_tokens + EXCLUDED.cache_write_5m_tokens,
                    cache_write_1h_tokens = r.cache_write_1h_tokens + EXCLUDED.cache_write_1h_tokens,
                    output_tokens = r.output_tokens + EXCLUDED.output_tokens,
                    reasoning_tokens = r.reasoning_tokens + EXCLUDED.reasoning_tokens,
                    cost_usd = r.cost_usd + EXCLUDED.cost_usd,
                    latency_ms_sum = r.latency_ms_sum + EXCLUDED.latency_ms_sum,
                    latency_buckets = ARRAY[\(merged)]::int8[]
                RETURNING 1
            """
    }

    /// Like ``upsertFromInserted``, for the end-user rollup `usage_user_daily` (tenant
    /// migration 0011): every event, "" for calls that named no user, so its sums match.
    static let upsertUsersFromInserted = """
        INSERT INTO usage_user_daily AS u (day, project_id, end_user, requests, errors, unpriced_requests,
                input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens,
                reasoning_tokens, cost_usd)
            SELECT date_trunc('day', occurred_at, 'UTC'), project_id, end_user,
                   count(*), count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE NOT priced),
                   sum(input_tokens), sum(cached_input_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens),
                   sum(output_tokens), sum(reasoning_tokens), coalesce(sum(cost_usd), 0)
            FROM inserted GROUP BY 1, 2, 3
            ON CONFLICT (day, project_id, end_user) DO UPDATE SET
                requests = u.requests + EXCLUDED.requests,
                errors = u.errors + EXCLUDED.errors,
                unpriced_requests = u.unpriced_requests + EXCLUDED.unpriced_requests,
                input_tokens = u.input_tokens + EXCLUDED.input_tokens,
                cached_input_tokens = u.cached_input_tokens + EXCLUDED.cached_input_tokens,
                cache_write_5m_tokens = u.cache_write_5m_tokens + EXCLUDED.cache_write_5m_tokens,
                cache_write_1h_tokens = u.cache_write_1h_tokens + EXCLUDED.cache_write_1h_tokens,
                output_tokens = u.output_tokens + EXCLUDED.output_tokens,
                reasoning_tokens = u.reasoning_tokens + EXCLUDED.reasoning_tokens,
                cost_usd = u.cost_usd + EXCLUDED.cost_usd
            RETURNING 1
        """
}

/// A dimension analytics can group or rank by.
public enum AnalyticsDimension: String, Sendable, Hashable, CaseIterable {
    case provider, model, project, apiKey, route, day, hour, user

    /// The column expression over the rollups (fixed text, never user input).
    var expression: String {
        switch self {
        case .user: "end_user"
        case .provider: "provider"
        case .model: "model"
        case .project: "project_id"
        case .apiKey: "api_key_id"
        case .route: "route_id"
        case .day: "date_trunc('day', hour, 'UTC')"
        case .hour: "hour"
        }
    }

    var isTime: Bool { self == .day || self == .hour }

    /// What the end-user rollup (per UTC day, project and user) can also group by.
    public var combinesWithUser: Bool { self == .user || self == .project || self == .day }
}

/// What to read: a time range of whole hours, narrowed by each field that is set.
public struct AnalyticsFilter: Sendable, Hashable {
    public var since: Date
    public var until: Date
    public var projectID: UUID?
    public var provider: String?
    public var model: String?
    public var apiKeyID: UUID?
    public var routeID: UUID?
    /// The end user ("" matches calls that named none).
    public var endUser: String?

    /// Whether answering needs the end-user rollup (`usage_user_daily`).
    public func needsUserRollup(groupBy: [AnalyticsDimension]) -> Bool {
        endUser != nil || groupBy.contains(.user)
    }

    public init(since: Date, until: Date, projectID: UUID? = nil, provider: String? = nil, model: String? = nil,
                apiKeyID: UUID? = nil, routeID: UUID? = nil, endUser: String? = nil) {
        self.endUser = endUser
        self.since = since
        self.until = until
        self.projectID = projectID
        self.provider = provider
        self.model = model
        self.apiKeyID = apiKeyID
        self.routeID = routeID
    }
}

/// Sums over rollup rows.
public struct UsageTotals: Sendable, Hashable {
    public var requests: Int64 = 0
    public var errors: Int64 = 0
    public var unpricedRequests: Int64 = 0
    public var inputTokens: Int64 = 0
    public var cachedInputTokens: Int64 = 0
    public var cacheWrite5mTokens: Int64 = 0
    public var cacheWrite1hTokens: Int64 = 0
    public var outputTokens: Int64 = 0
    public var reasoningTokens: Int64 = 0
    /// Exact decimal USD, trailing zeros trimmed.
    public var costUSD: String = "0"
    public var latencyMsSum: Int64 = 0
    /// Counts per histogram bucket (``UsageRollup/bucketCount`` entries).
    public var latencyBuckets: [Int64] = Array(repeating: 0, count: UsageRollup.bucketCount)

    public init() {}

    /// The exact sum of `totals` (costs added as decimals, never floats), so a grouped query
    /// does not scan the rollup a second time for its total.
    public static func sum(_ totals: [UsageTotals]) throws -> UsageTotals {
        var result = UsageTotals()
        var cost = USDCost.zero
        for item in totals {
            result.requests += item.requests
            result.errors += item.errors
            result.unpricedRequests += item.unpricedRequests
            result.inputTokens += item.inputTokens
            result.cachedInputTokens += item.cachedInputTokens
            result.cacheWrite5mTokens += item.cacheWrite5mTokens
            result.cacheWrite1hTokens += item.cacheWrite1hTokens
            result.outputTokens += item.outputTokens
            result.reasoningTokens += item.reasoningTokens
            result.latencyMsSum += item.latencyMsSum
            for index in result.latencyBuckets.indices where index < item.latencyBuckets.count {
                result.latencyBuckets[index] += item.latencyBuckets[index]
            }
            cost += try USDCost.parse(item.costUSD, field: "cost_usd")
        }
        result.costUSD = cost.description
        return result
    }
}

/// One group of a cost query: the values of the grouped dimensions (others nil) and sums.
public struct UsageGroupRecord: Sendable, Hashable {
    public var provider: String?
    public var model: String?
    public var projectID: UUID?
    public var apiKeyID: UUID?
    /// `.some(nil)` when grouped by route and the requests had none.
    public var routeID: UUID??
    public var endUser: String?
    public var day: Date?
    public var hour: Date?
    public var totals: UsageTotals
}

/// Read side of the analytics rollup, for the analytics API (use inside a tenant
/// transaction). Reads only `usage_rollup_hourly`, never `usage_events`.
public struct UsageAnalyticsRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static let totalsSelect: String = {
        let buckets = (1 ... UsageRollup.bucketCount).map { "coalesce(sum(latency_buckets[\($0)]), 0)::int8" }
            .joined(separator: ", ")
        return """
            coalesce(sum(requests), 0)::int8, coalesce(sum(errors), 0)::int8, coalesce(sum(unpriced_requests), 0)::int8,
            coalesce(sum(input_tokens), 0)::int8, coalesce(sum(cached_input_tokens), 0)::int8,
            coalesce(sum(cache_write_5m_tokens), 0)::int8, coalesce(sum(cache_write_1h_tokens), 0)::int8,
            coalesce(sum(output_tokens), 0)::int8, coalesce(sum(reasoning_tokens), 0)::int8,
            coalesce(sum(cost_usd), 0)::text, coalesce(sum(latency_ms_sum), 0)::int8, ARRAY[\(buckets)]
            """
    }()
    static let totalsColumnCount = 12
    /// The same columns without the latency histogram (zeros): summing eleven array
    /// elements per rollup row is most of a long range's cost, and only model health reads
    /// latencies. Also what `usage_user_daily`, which keeps none, can answer.
    static let totalsWithoutLatencySelect: String = {
        let zeros = Array(repeating: "0", count: UsageRollup.bucketCount).joined(separator: ", ")
        return """
            coalesce(sum(requests), 0)::int8, coalesce(sum(errors), 0)::int8, coalesce(sum(unpriced_requests), 0)::int8,
            coalesce(sum(input_tokens), 0)::int8, coalesce(sum(cached_input_tokens), 0)::int8,
            coalesce(sum(cache_write_5m_tokens), 0)::int8, coalesce(sum(cache_write_1h_tokens), 0)::int8,
            coalesce(sum(output_tokens), 0)::int8, coalesce(sum(reasoning_tokens), 0)::int8,
            coalesce(sum(cost_usd), 0)::text, 0::int8, ARRAY[\(zeros)]::int8[]
            """
    }()

    /// The WHERE clause for `filter`, appending its values to `bindings`.
    static func whereClause(_ filter: AnalyticsFilter, _ bindings: inout PostgresBindings, time: Bool = true) -> String {
        var clauses: [String] = ["true"]
        func bind(_ condition: (String) -> String, _ append: (inout PostgresBindings) -> Void) {
            append(&bindings)
            clauses.append(condition("$\(bindings.count)"))
        }
        if time {
            bind({ "hour >= \($0)" }) { $0.append(filter.since) }
            bind({ "hour < \($0)" }) { $0.append(filter.until) }
        }
        if let id = filter.projectID { bind({ "project_id = \($0)" }) { $0.append(id) } }
        if let provider = filter.provider { bind({ "provider = \($0)" }) { $0.append(provider) } }
        if let model = filter.model { bind({ "model = \($0)" }) { $0.append(model) } }
        if let id = filter.apiKeyID { bind({ "api_key_id = \($0)" }) { $0.append(id) } }
        if let id = filter.routeID { bind({ "route_id = \($0)" }) { $0.append(id) } }
        if let user = filter.endUser { bind({ "end_user = \($0)" }) { $0.append(user) } }
        return clauses.joined(separator: " AND ")
    }

    /// Sums grouped by `groupBy` (in that order; empty = one total row). Ordered by the time
    /// dimensions ascending, then cost and requests descending, then the other keys. At
    /// most `limit` groups.
    ///
    /// A filter or grouping by end user reads `usage_user_daily` instead, which is kept per
    /// UTC day and project only: the caller must not combine it with other dimensions or
    /// filters (the analytics API refuses that with a clear message), and `since` counts
    /// from the start of its UTC day. Latency sums and the histogram are read only with
    /// `latency` (model health); otherwise they are zero.
    public func groups(_ filter: AnalyticsFilter, groupBy: [AnalyticsDimension], limit: Int,
                       latency: Bool = false) async throws -> [UsageGroupRecord] {
        let byUser = filter.needsUserRollup(groupBy: groupBy)
        precondition(!byUser || (filter.apiKeyID == nil && filter.routeID == nil && filter.provider == nil && filter.model == nil
                                 && groupBy.allSatisfy(\.combinesWithUser)),
                     "the end-user rollup is kept per day, project and user only")
        var bindings = PostgresBindings()
        let source: String
        let whereSQL: String
        if !byUser, !groupBy.contains(.hour), let days = Self.wholeDays(from: filter.since, to: filter.until) {
            source = Self.hourlyAndDaily(filter.since, days, filter.until, &bindings)
            whereSQL = Self.whereClause(filter, &bindings, time: false)
        } else if byUser {
            source = "(SELECT day AS hour, project_id, end_user, requests, errors, unpriced_requests, input_tokens, "
                + "cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd "
                + "FROM usage_user_daily) AS usage_user_daily"
            var dayAligned = filter
            dayAligned.since = Date(timeIntervalSince1970: (filter.since.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
            whereSQL = Self.whereClause(dayAligned, &bindings)
        } else {
            source = "usage_rollup_hourly"
            whereSQL = Self.whereClause(filter, &bindings)
        }
        let keys = groupBy.map(\.expression)
        var order = groupBy.filter(\.isTime).map { "\($0.expression) ASC" }
        order += ["sum(cost_usd) DESC", "sum(requests) DESC"]
        order += groupBy.filter { !$0.isTime }.map { "\($0.expression) ASC" }
        let select = (keys + [latency && !byUser ? Self.totalsSelect : Self.totalsWithoutLatencySelect]).joined(separator: ", ")
        let groupSQL = keys.isEmpty ? "" : "GROUP BY \(keys.joined(separator: ", "))"
        let havingSQL = keys.isEmpty ? "" : "HAVING sum(requests) > 0"
        let sql = """
            SELECT \(select) FROM \(source) WHERE \(whereSQL)
            \(groupSQL) \(havingSQL) ORDER BY \(order.joined(separator: ", ")) LIMIT \(max(0, limit))
            """
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var result: [UsageGroupRecord] = []
        for try await row in rows {
            let columns = row.makeRandomAccess()
            var record = UsageGroupRecord(totals: UsageTotals())
            for (index, dimension) in groupBy.enumerated() {
                let cell = columns[index]
                switch dimension {
                case .provider: record.provider = try cell.decode(String.self)
                case .model: record.model = try cell.decode(String.self)
                case .project: record.projectID = try cell.decode(UUID.self)
                case .apiKey: record.apiKeyID = try cell.decode(UUID.self)
                case .route:
                    let id = try cell.decode(UUID.self)
                    record.routeID = .some(id == UsageRollup.noRoute ? nil : id)
                case .day: record.day = try cell.decode(Date.self)
                case .hour: record.hour = try cell.decode(Date.self)
                case .user: record.endUser = try cell.decode(String.self)
                }
            }
            record.totals = try Self.totals(columns, from: groupBy.count)
            result.append(record)
        }
        return result
    }

    /// The whole UTC days inside `[since, until)`, when there is at least one.
    static func wholeDays(from since: Date, to until: Date) -> Range<Date>? {
        let day: TimeInterval = 86_400
        let first = Date(timeIntervalSince1970: (since.timeIntervalSince1970 / day).rounded(.up) * day)
        let last = Date(timeIntervalSince1970: (until.timeIntervalSince1970 / day).rounded(.down) * day)
        return first < last ? first ..< last : nil
    }

    static let rollupColumns = """
        project_id, provider, model, api_key_id, route_id, requests, errors, unpriced_requests, input_tokens,
        cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd,
        latency_ms_sum, latency_buckets
        """

    /// `[since, until)` as rollup rows: the whole days `days` from `usage_rollup_daily` (its
    /// `day` read as `hour`, so the same expressions group it) and the partial days at either
    /// end from `usage_rollup_hourly`. A subquery named like the table, so the caller's
    /// filters and groupings apply unchanged (PostgreSQL pushes them into each branch).
    static func hourlyAndDaily(_ since: Date, _ days: Range<Date>, _ until: Date, _ bindings: inout PostgresBindings) -> String {
        func bind(_ date: Date) -> String {
            bindings.append(date)
            return "$\(bindings.count)"
        }
        let head = "SELECT hour, \(rollupColumns) FROM usage_rollup_hourly WHERE hour >= \(bind(since)) AND hour < \(bind(days.lowerBound))"
        let middle = "SELECT day AS hour, \(rollupColumns) FROM usage_rollup_daily WHERE day >= \(bind(days.lowerBound)) AND day < \(bind(days.upperBound))"
        let tail = "SELECT hour, \(rollupColumns) FROM usage_rollup_hourly WHERE hour >= \(bind(days.upperBound)) AND hour < \(bind(until))"
        return "(\(head) UNION ALL \(middle) UNION ALL \(tail)) AS usage_rollup_hourly"
    }

    static func totals(_ columns: PostgresRandomAccessRow, from first: Int) throws -> UsageTotals {
        var totals = UsageTotals()
        totals.requests = try columns[first].decode(Int64.self)
        totals.errors = try columns[first + 1].decode(Int64.self)
        totals.unpricedRequests = try columns[first + 2].decode(Int64.self)
        totals.inputTokens = try columns[first + 3].decode(Int64.self)
        totals.cachedInputTokens = try columns[first + 4].decode(Int64.self)
        totals.cacheWrite5mTokens = try columns[first + 5].decode(Int64.self)
        totals.cacheWrite1hTokens = try columns[first + 6].decode(Int64.self)
        totals.outputTokens = try columns[first + 7].decode(Int64.self)
        totals.reasoningTokens = try columns[first + 8].decode(Int64.self)
        totals.costUSD = UsageEventRepository.trimmed(try columns[first + 9].decode(String.self))
        totals.latencyMsSum = try columns[first + 10].decode(Int64.self)
        totals.latencyBuckets = try columns[first + 11].decode([Int64].self)
        return totals
    }

    /// Spend per project and UTC day (day number since 1970-01-01) for `[since, until)` (whole
    /// days from the daily rollup, partial ones from the hourly).
    public func dailySpend(projectIDs: [UUID], since: Date, until: Date) async throws -> [UUID: [Int: String]] {
        guard !projectIDs.isEmpty else { return [:] }
        var bindings = PostgresBindings()
        let source: String
        if let days = Self.wholeDays(from: since, to: until) {
            source = Self.hourlyAndDaily(since, days, until, &bindings)
        } else {
            bindings.append(since)
            bindings.append(until)
            source = "(SELECT * FROM usage_rollup_hourly WHERE hour >= $1 AND hour < $2) AS usage_rollup_hourly"
        }
        bindings.append(projectIDs)
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT project_id, (extract(epoch FROM date_trunc('day', hour, 'UTC')) / 86400)::int8, sum(cost_usd)::text
            FROM \(source) WHERE project_id = ANY($\(bindings.count))
            GROUP BY 1, 2
            """, binds: bindings), logger: logger)
        var result: [UUID: [Int: String]] = [:]
        for try await (project, day, cost) in rows.decode((UUID, Int64, String).self) {
            result[project, default: [:]][Int(day)] = UsageEventRepository.trimmed(cost)
        }
        return result
    }

    /// Spend per project for `[since, until)` at hour resolution (an hour starting before
    /// `until` counts whole).
    public func spend(projectIDs: [UUID], since: Date, until: Date) async throws -> [UUID: String] {
        guard !projectIDs.isEmpty else { return [:] }
        let rows = try await connection.query("""
            SELECT project_id, sum(cost_usd)::text FROM usage_rollup_hourly
            WHERE project_id = ANY(\(projectIDs)) AND hour >= \(since) AND hour < \(until)
            GROUP BY 1
            """, logger: logger)
        var result: [UUID: String] = [:]
        for try await (project, cost) in rows.decode((UUID, String).self) {
            result[project] = UsageEventRepository.trimmed(cost)
        }
        return result
    }

    /// The UTC day number of each project's first rollup row (one index probe per project).
    public func firstUsageDay(projectIDs: [UUID]) async throws -> [UUID: Int] {
        guard !projectIDs.isEmpty else { return [:] }
        let rows = try await connection.query("""
            SELECT p.id, (SELECT (extract(epoch FROM date_trunc('day', min(r.hour), 'UTC')) / 86400)::int8
                          FROM usage_rollup_hourly r WHERE r.project_id = p.id)
            FROM unnest(\(projectIDs)::uuid[]) AS p(id)
            """, logger: logger)
        var result: [UUID: Int] = [:]
        for try await (project, day) in rows.decode((UUID, Int64?).self) {
            if let day { result[project] = Int(day) }
        }
        return result
    }
}
