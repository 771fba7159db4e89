public import Foundation
public import Logging
public import PostgresNIO

/// One proxy request as metered: who, what, the normalised token classes, the exact cost
/// (or why there is none), timings and outcome. `Codable` because the usage writer spools
/// events as JSON lines when the database is unreachable; ``tenantID`` says which tenant
/// schema the event belongs to (it is not a column: the schema is the tenant).
public struct UsageEventRecord: Sendable, Hashable, Codable {
    public var tenantID: UUID
    public var requestID: String
    public var occurredAt: Date
    public var projectID: UUID
    public var apiKeyID: UUID
    public var routeID: UUID?
    public var deployment: String
    public var provider: String
    /// The model as the client requested it.
    public var model: String
    /// The model the provider reports in its response ("" when there was none).
    public var responseModel: String
    public var inputTokens: Int64
    public var cachedInputTokens: Int64
    public var cacheWrite5mTokens: Int64
    public var cacheWrite1hTokens: Int64
    public var outputTokens: Int64
    public var reasoningTokens: Int64
    /// Exact decimal USD (full precision), nil when unpriced.
    public var costUSD: String?
    public var unpricedReason: String
    public var latencyMs: Int32
    public var ttftMs: Int32?
    public var status: Int32
    public var errorClass: String
    public var traceparent: String
    public var streamed: Bool
    public var cacheHit: Bool
    /// The end user the client named (OpenAI `user`, Anthropic `metadata.user_id`, or the
    /// `x-llmlab-user` header); nil or "" when none. Optional so events spooled before
    /// this field existed still decode.
    public var endUser: String?

    public var priced: Bool { costUSD != nil }

    public init(tenantID: UUID, requestID: String, occurredAt: Date, projectID: UUID, apiKeyID: UUID, routeID: UUID? = nil,
                deployment: String = "", provider: String, model: String, responseModel: String = "",
                inputTokens: Int64 = 0, cachedInputTokens: Int64 = 0, cacheWrite5mTokens: Int64 = 0,
                cacheWrite1hTokens: Int64 = 0, outputTokens: Int64 = 0, reasoningTokens: Int64 = 0,
                costUSD: String?, unpricedReason: String = "", latencyMs: Int32, ttftMs: Int32? = nil, status: Int32,
                errorClass: String = "", traceparent: String = "", streamed: Bool, cacheHit: Bool = false, endUser: String = "") {
        self.tenantID = tenantID
        self.requestID = requestID
        self.occurredAt = occurredAt
        self.projectID = projectID
        self.apiKeyID = apiKeyID
        self.routeID = routeID
        self.deployment = deployment
        self.provider = provider
        self.model = model
        self.responseModel = responseModel
        self.inputTokens = inputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWrite5mTokens = cacheWrite5mTokens
        self.cacheWrite1hTokens = cacheWrite1hTokens
        self.outputTokens = outputTokens
        self.reasoningTokens = reasoningTokens
        self.costUSD = costUSD
        self.unpricedReason = unpricedReason
        self.latencyMs = latencyMs
        self.ttftMs = ttftMs
        self.status = status
        self.errorClass = errorClass
        self.traceparent = traceparent
        self.streamed = streamed
        self.cacheHit = cacheHit
        self.endUser = endUser
    }
}

/// Filters for reading usage events, newest first.
public struct UsageQuery: Sendable {
    public var since: Date?
    public var until: Date?
    public var projectID: UUID?
    public var apiKeyID: UUID?
    public var model: String?
    /// 2, 3, 4 or 5: only statuses in that hundred.
    public var statusClass: Int?
    /// Keyset cursor: only events strictly older than (micros since epoch, request id).
    public var before: (micros: Int64, requestID: String)?
    public var limit: Int

    public init(since: Date? = nil, until: Date? = nil, projectID: UUID? = nil, apiKeyID: UUID? = nil, model: String? = nil,
                statusClass: Int? = nil, before: (micros: Int64, requestID: String)? = nil, limit: Int) {
        self.since = since
        self.until = until
        self.projectID = projectID
        self.apiKeyID = apiKeyID
        self.model = model
        self.statusClass = statusClass
        self.before = before
        self.limit = limit
    }
}

/// One row of `usage_hourly`.
public struct UsageHourlyRecord: Sendable, Hashable {
    public var projectID: UUID
    public var provider: String
    public var model: String
    public var hour: Date
    public var requests: Int64
    public var errors: Int64
    public var unpricedRequests: Int64
    public var inputTokens: Int64
    public var cachedInputTokens: Int64
    public var outputTokens: Int64
    public var reasoningTokens: Int64
    public var costUSD: String
}

/// `usage_events` and `usage_hourly` in a tenant schema (use inside a tenant transaction).
public struct UsageEventRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static let insertColumns = """
        request_id, occurred_at, project_id, api_key_id, route_id, deployment, provider, model, response_model,
        input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
        cost_usd, priced, unpriced_reason, latency_ms, ttft_ms, status, error_class, traceparent, streamed, cache_hit,
        end_user
        """
    static let columnCount = 26

    /// Inserts the events whose request id is new and adds exactly those to the hourly
    /// rollup, to the analytics rollup (`usage_rollup_hourly`, see ``UsageRollup``) and to the
    /// per-key monthly rollup (`usage_key_monthly`), in one statement (so in the caller's
    /// transaction). Returns how many were new.
    public func insert(_ events: [UsageEventRecord]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        var bindings = PostgresBindings(capacity: events.count * Self.columnCount)
        var tuples: [String] = []
        tuples.reserveCapacity(events.count)
        for event in events {
            let base = bindings.count
            bindings.append(event.requestID)
            bindings.append(event.occurredAt)
            bindings.append(event.projectID)
            bindings.append(event.apiKeyID)
            if let route = event.routeID { bindings.append(route) } else { bindings.appendNull() }
            bindings.append(event.deployment)
            bindings.append(event.provider)
            bindings.append(event.model)
            bindings.append(event.responseModel)
            bindings.append(event.inputTokens)
            bindings.append(event.cachedInputTokens)
            bindings.append(event.cacheWrite5mTokens)
            bindings.append(event.cacheWrite1hTokens)
            bindings.append(event.outputTokens)
            bindings.append(event.reasoningTokens)
            if let cost = event.costUSD { bindings.append(cost) } else { bindings.appendNull() }
            bindings.append(event.priced)
            bindings.append(event.unpricedReason)
            bindings.append(event.latencyMs)
            if let ttft = event.ttftMs { bindings.append(ttft) } else { bindings.appendNull() }
            bindings.append(event.status)
            bindings.append(event.errorClass)
            bindings.append(event.traceparent)
            bindings.append(event.streamed)
            bindings.append(event.cacheHit)
            bindings.append(event.endUser ?? "")
            let p = (1...Self.columnCount).map { "$\(base + $0)" }
            // Casts where the parameter's type would otherwise be inferred from text.
            tuples.append("(\(p[0]), \(p[1]), \(p[2]), \(p[3]), \(p[4])::uuid, \(p[5]), \(p[6]), \(p[7]), \(p[8]), "
                + "\(p[9]), \(p[10]), \(p[11]), \(p[12]), \(p[13]), \(p[14]), \(p[15])::numeric, \(p[16]), \(p[17]), "
                + "\(p[18]), \(p[19])::int4, \(p[20]), \(p[21]), \(p[22]), \(p[23]), \(p[24]), \(p[25]))")
        }
        let sql = """
            WITH inserted AS (
                INSERT INTO usage_events (\(Self.insertColumns))
                VALUES \(tuples.joined(separator: ",\n"))
                ON CONFLICT (request_id) DO NOTHING
                RETURNING project_id, api_key_id, route_id, provider, model, occurred_at, status, priced, input_tokens,
                          cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
                          cost_usd, latency_ms, end_user
            ), analytics AS (
                \(UsageRollup.upsertFromInserted)
            ), daily AS (
                \(UsageRollup.upsertDailyFromInserted)
            ), users AS (
                \(UsageRollup.upsertUsersFromInserted)
            ), rolled AS (
                INSERT INTO usage_hourly AS h (project_id, provider, model, hour, requests, errors, unpriced_requests,
                    input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens,
                    reasoning_tokens, cost_usd)
                SELECT project_id, provider, model, date_trunc('hour', occurred_at, 'UTC'), count(*),
                       count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE NOT priced),
                       sum(input_tokens), sum(cached_input_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens),
                       sum(output_tokens), sum(reasoning_tokens), coalesce(sum(cost_usd), 0)
                FROM inserted GROUP BY 1, 2, 3, 4
                ON CONFLICT (project_id, provider, model, hour) DO UPDATE SET
                    requests = h.requests + EXCLUDED.requests,
                    errors = h.errors + EXCLUDED.errors,
                    unpriced_requests = h.unpriced_requests + EXCLUDED.unpriced_requests,
                    input_tokens = h.input_tokens + EXCLUDED.input_tokens,
                    cached_input_tokens = h.cached_input_tokens + EXCLUDED.cached_input_tokens,
                    cache_write_5m_tokens = h.cache_write_5m_tokens + EXCLUDED.cache_write_5m_tokens,
                    cache_write_1h_tokens = h.cache_write_1h_tokens + EXCLUDED.cache_write_1h_tokens,
                    output_tokens = h.output_tokens + EXCLUDED.output_tokens,
                    reasoning_tokens = h.reasoning_tokens + EXCLUDED.reasoning_tokens,
                    cost_usd = h.cost_usd + EXCLUDED.cost_usd
                RETURNING 1
            ), keyed AS (
                INSERT INTO usage_key_monthly AS k (api_key_id, month, requests, cost_usd)
                SELECT api_key_id, date_trunc('month', occurred_at, 'UTC')::date, count(*), coalesce(sum(cost_usd), 0)
                FROM inserted GROUP BY 1, 2
                ON CONFLICT (api_key_id, month) DO UPDATE SET
                    requests = k.requests + EXCLUDED.requests,
                    cost_usd = k.cost_usd + EXCLUDED.cost_usd
                RETURNING 1
            )
            SELECT count(*)::int8 FROM inserted
            """
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var count: Int64 = 0
        for try await row in rows { count = try row.decode(Int64.self) }
        return Int(count)
    }

    static let selectColumns = """
        request_id, (extract(epoch FROM occurred_at) * 1000000)::int8, project_id, api_key_id, route_id, deployment,
        provider, model, response_model, input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
        output_tokens, reasoning_tokens, cost_usd::text, unpriced_reason, latency_ms, ttft_ms, status, error_class,
        traceparent, streamed, cache_hit, end_user
        """

    /// Newest first: by (occurred_at, request_id) descending.
    public func list(_ query: UsageQuery, tenantID: UUID) async throws -> [UsageEventRecord] {
        let since = query.since.map(Self.micros) ?? -10_000_000_000_000_000
        let until = query.until.map(Self.micros) ?? 10_000_000_000_000_000
        let hasProject = query.projectID != nil
        let hasKey = query.apiKeyID != nil
        let model = query.model ?? ""
        let statusClass = query.statusClass ?? 0
        let hasCursor = query.before != nil
        let beforeMicros = query.before?.micros ?? 0
        let beforeID = query.before?.requestID ?? ""
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.selectColumns) FROM usage_events
            WHERE occurred_at >= 'epoch'::timestamptz + \(since) * interval '1 microsecond'
              AND occurred_at < 'epoch'::timestamptz + \(until) * interval '1 microsecond'
              AND (NOT \(hasProject) OR project_id = \(query.projectID ?? UUID()))
              AND (NOT \(hasKey) OR api_key_id = \(query.apiKeyID ?? UUID()))
              AND (\(model) = '' OR model = \(model) OR response_model = \(model))
              AND (\(statusClass) = 0 OR status / 100 = \(statusClass))
              AND (NOT \(hasCursor) OR (occurred_at, request_id)
                   < ('epoch'::timestamptz + \(beforeMicros) * interval '1 microsecond', \(beforeID)))
            ORDER BY occurred_at DESC, request_id DESC LIMIT \(query.limit)
            """, logger: logger)
        var result: [UsageEventRecord] = []
        for try await row in rows {
            let (requestID, micros, projectID, apiKeyID, routeID, deployment, provider, model, responseModel,
                 input, cached, write5m, write1h, output, reasoning, cost) = try row.decode(
                (String, Int64, UUID, UUID, UUID?, String, String, String, String, Int64, Int64, Int64, Int64, Int64, Int64,
                 String?).self)
            let columns = row.makeRandomAccess()
            let unpricedReason = try columns[16].decode(String.self)
            let latency = try columns[17].decode(Int32.self)
            let ttft = try columns[18].decode(Int32?.self)
            let status = try columns[19].decode(Int32.self)
            let errorClass = try columns[20].decode(String.self)
            let traceparent = try columns[21].decode(String.self)
            let streamed = try columns[22].decode(Bool.self)
            let cacheHit = try columns[23].decode(Bool.self)
            let endUser = try columns[24].decode(String.self)
            result.append(UsageEventRecord(
                tenantID: tenantID, requestID: requestID, occurredAt: Date(timeIntervalSince1970: Double(micros) / 1_000_000),
                projectID: projectID, apiKeyID: apiKeyID, routeID: routeID, deployment: deployment, provider: provider,
                model: model, responseModel: responseModel, inputTokens: input, cachedInputTokens: cached,
                cacheWrite5mTokens: write5m, cacheWrite1hTokens: write1h, outputTokens: output, reasoningTokens: reasoning,
                costUSD: cost.map(Self.trimmed), unpricedReason: unpricedReason, latencyMs: latency, ttftMs: ttft,
                status: status, errorClass: errorClass, traceparent: traceparent, streamed: streamed, cacheHit: cacheHit,
                endUser: endUser))
        }
        return result
    }

    /// Microseconds since the epoch of an event's time, as the cursor carries it.
    public static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// "0.000375000000" → "0.000375"; "2.000000000000" → "2". NUMERIC(30,12) pads to 12 places.
    static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var out = Substring(text)
        while out.hasSuffix("0") { out = out.dropLast() }
        if out.hasSuffix(".") { out = out.dropLast() }
        return String(out)
    }

    /// The whole rollup (tests and reports).
    public func hourly() async throws -> [UsageHourlyRecord] {
        let rows = try await connection.query("""
            SELECT project_id, provider, model, hour, requests, errors, unpriced_requests, input_tokens,
                   cached_input_tokens, output_tokens, reasoning_tokens, cost_usd::text
            FROM usage_hourly ORDER BY hour, project_id, provider, model
            """, logger: logger)
        var result: [UsageHourlyRecord] = []
        for try await (project, provider, model, hour, requests, errors, unpriced, input, cached, output, reasoning, cost)
            in rows.decode((UUID, String, String, Date, Int64, Int64, Int64, Int64, Int64, Int64, Int64, String).self) {
            result.append(UsageHourlyRecord(projectID: project, provider: provider, model: model, hour: hour, requests: requests,
                                            errors: errors, unpricedRequests: unpriced, inputTokens: input,
                                            cachedInputTokens: cached, outputTokens: output, reasoningTokens: reasoning,
                                            costUSD: Self.trimmed(cost)))
        }
        return result
    }
}
