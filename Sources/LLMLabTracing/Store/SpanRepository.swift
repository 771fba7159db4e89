public import Foundation
import LLMLabCore
import LLMLabStore
public import Logging
public import PostgresNIO

/// `spans` and `traces` in a tenant schema. Use only inside `Database.withTenantTransaction`:
/// names are unqualified and resolve through the tenant's search_path and role, so another
/// tenant's traces are invisible here.
public struct SpanRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Spans per INSERT statement: 34 parameters each, well under PostgreSQL's 65 535.
    public static let maxSpansPerStatement = 1_000

    static let insertColumns = """
        trace_id, span_id, parent_span_id, project_id, name, category, start_time, end_time, start_unix_nano,
        end_unix_nano, duration_ns, is_error, error_flags, error_message, provider, request_model, response_model,
        input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
        cost_usd, unpriced_reason, reported_cost_usd, finish_reason, user_id, session_id, service_name, tool_name,
        attributes, events, content
        """
    static let columnCount = 34

    /// Inserts the spans whose (trace id, span id) is new — one multi-row
    /// `INSERT … ON CONFLICT DO NOTHING` per ``maxSpansPerStatement`` spans — then recomputes
    /// the `traces` row of every trace the batch touched from all of that trace's spans.
    /// Run it inside one tenant transaction: spans and summaries commit together.
    ///
    /// Concurrent batches for the same trace (several writers) are serialised on a
    /// transaction-scoped advisory lock per trace, taken in a fixed order, so the summary
    /// recomputed last always sees every committed span. Returns how many spans were new.
    @discardableResult
    public func insert(_ spans: [NormalizedSpan]) async throws -> Int {
        guard !spans.isEmpty else { return 0 }
        let traceIDs = Array(Set(spans.map(\.traceID))).sorted()
        try await connection.query("""
            SELECT count(pg_catalog.pg_advisory_xact_lock(h))
            FROM (SELECT DISTINCT pg_catalog.hashtextextended(id, 7205) AS h FROM unnest(\(traceIDs)::text[]) AS id ORDER BY 1) AS locks
            """, logger: logger)
        var inserted = 0
        var start = 0
        while start < spans.count {
            let end = min(start + Self.maxSpansPerStatement, spans.count)
            inserted += try await insertChunk(spans[start..<end])
            start = end
        }
        try await recomputeSummaries(traceIDs: traceIDs)
        return inserted
    }

    private func insertChunk(_ spans: ArraySlice<NormalizedSpan>) async throws -> Int {
        var bindings = PostgresBindings(capacity: spans.count * Self.columnCount)
        var sql = "INSERT INTO spans (\(Self.insertColumns)) VALUES "
        sql.reserveCapacity(80 + spans.count * 420)
        var first = true
        for span in spans {
            let base = bindings.count
            bindings.append(span.traceID)
            bindings.append(span.spanID)
            bindings.append(span.parentSpanID)
            bindings.append(span.projectID)
            bindings.append(span.name)
            bindings.append(span.category.rawValue)
            bindings.append(Int64(clamping: span.startTimeUnixNano / 1_000))
            bindings.append(Int64(clamping: span.endTimeUnixNano / 1_000))
            bindings.append(String(span.startTimeUnixNano))
            bindings.append(String(span.endTimeUnixNano))
            bindings.append(Int64(clamping: span.durationNanos))
            bindings.append(span.isError)
            bindings.append(Int32(truncatingIfNeeded: span.errorFlags.rawValue))
            bindings.append(span.errorMessage)
            bindings.append(span.provider)
            bindings.append(span.requestModel)
            bindings.append(span.responseModel)
            bindings.append(Int64(span.tokens.uncachedInput))
            bindings.append(Int64(span.tokens.cacheRead))
            bindings.append(Int64(span.tokens.cacheWrite5m))
            bindings.append(Int64(span.tokens.cacheWrite1h))
            bindings.append(Int64(span.tokens.output))
            bindings.append(Int64(span.tokens.reasoning))
            if let cost = span.costUSD { bindings.append(cost) } else { bindings.appendNull() }
            bindings.append(span.unpricedReason)
            if let reported = span.reportedCostUSD { bindings.append(reported) } else { bindings.appendNull() }
            bindings.append(span.finishReason)
            bindings.append(span.userID)
            bindings.append(span.sessionID)
            bindings.append(span.serviceName)
            bindings.append(span.toolName)
            bindings.append(span.attributesJSON.isEmpty ? "{}" : span.attributesJSON)
            // events and content follow; content is NULL when empty.
            bindings.append(span.eventsJSON.isEmpty ? "[]" : span.eventsJSON)
            if span.contentJSON.isEmpty { bindings.appendNull() } else { bindings.append(span.contentJSON) }
            func p(_ index: Int) -> String { "$\(base + index + 1)" }
            if !first { sql += ",\n" }
            first = false
            sql += "(\(p(0)), \(p(1)), \(p(2)), \(p(3)), \(p(4)), \(p(5)), "
            sql += "'epoch'::timestamptz + \(p(6)) * interval '1 microsecond', "
            sql += "'epoch'::timestamptz + \(p(7)) * interval '1 microsecond', "
            sql += "\(p(8))::numeric, \(p(9))::numeric, \(p(10)), \(p(11)), \(p(12)), \(p(13)), \(p(14)), \(p(15)), \(p(16)), "
            sql += "\(p(17)), \(p(18)), \(p(19)), \(p(20)), \(p(21)), \(p(22)), \(p(23))::numeric, \(p(24)), \(p(25))::numeric, "
            sql += "\(p(26)), \(p(27)), \(p(28)), \(p(29)), \(p(30)), \(p(31))::jsonb, \(p(32))::jsonb, \(p(33))::text::jsonb)"
        }
        sql += "\nON CONFLICT (trace_id, span_id) DO NOTHING RETURNING 1"
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Rewrites the `traces` rows of `traceIDs` from their spans (all of them, not only the
    /// batch's), so summaries are right whatever order spans arrive in.
    func recomputeSummaries(traceIDs: [String]) async throws {
        try await connection.query("""
            INSERT INTO traces AS t (trace_id, project_id, root_span_id, root_name, has_root, start_time, end_time,
                duration_ns, span_count, error_count, llm_call_count, cost_usd, cost_unpriced_spans, input_tokens,
                cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
                user_id, session_id, models, service_name, updated_at)
            SELECT a.trace_id, r.project_id, r.span_id, r.name, r.parent_span_id = '', a.start_time, a.end_time,
                   a.duration_ns, a.span_count, a.error_count, a.llm_call_count, a.cost_usd, a.cost_unpriced_spans,
                   a.input_tokens, a.cached_input_tokens, a.cache_write_5m_tokens, a.cache_write_1h_tokens,
                   a.output_tokens, a.reasoning_tokens,
                   CASE WHEN r.user_id <> '' THEN r.user_id ELSE coalesce(a.first_user, '') END,
                   CASE WHEN r.session_id <> '' THEN r.session_id ELSE coalesce(a.first_session, '') END,
                   ARRAY(SELECT DISTINCT m.model FROM spans AS x
                         CROSS JOIN LATERAL (VALUES (x.request_model), (x.response_model)) AS m(model)
                         WHERE x.trace_id = a.trace_id AND m.model <> '' ORDER BY 1),
                   CASE WHEN r.service_name <> '' THEN r.service_name ELSE coalesce(a.first_service, '') END,
                   now()
            FROM (
                SELECT trace_id, min(start_time) AS start_time, max(end_time) AS end_time,
                       greatest(max(end_unix_nano) - min(start_unix_nano), 0)::int8 AS duration_ns,
                       count(*)::int4 AS span_count,
                       count(*) FILTER (WHERE is_error)::int4 AS error_count,
                       count(*) FILTER (WHERE category = 'llm')::int4 AS llm_call_count,
                       coalesce(sum(cost_usd), 0) AS cost_usd,
                       count(*) FILTER (WHERE cost_usd IS NULL AND (unpriced_reason <> '' OR category = 'llm'))::int4
                           AS cost_unpriced_spans,
                       sum(input_tokens)::int8 AS input_tokens, sum(cached_input_tokens)::int8 AS cached_input_tokens,
                       sum(cache_write_5m_tokens)::int8 AS cache_write_5m_tokens,
                       sum(cache_write_1h_tokens)::int8 AS cache_write_1h_tokens,
                       sum(output_tokens)::int8 AS output_tokens, sum(reasoning_tokens)::int8 AS reasoning_tokens,
                       (array_agg(user_id ORDER BY start_unix_nano, span_id) FILTER (WHERE user_id <> ''))[1] AS first_user,
                       (array_agg(session_id ORDER BY start_unix_nano, span_id) FILTER (WHERE session_id <> ''))[1] AS first_session,
                       (array_agg(service_name ORDER BY start_unix_nano, span_id) FILTER (WHERE service_name <> ''))[1] AS first_service
                FROM spans WHERE trace_id = ANY(\(traceIDs)::text[])
                GROUP BY trace_id
            ) AS a
            CROSS JOIN LATERAL (
                SELECT span_id, name, project_id, parent_span_id, user_id, session_id, service_name FROM spans
                WHERE trace_id = a.trace_id
                ORDER BY (parent_span_id = '') DESC, start_unix_nano, span_id LIMIT 1
            ) AS r
            ON CONFLICT (trace_id) DO UPDATE SET
                project_id = EXCLUDED.project_id, root_span_id = EXCLUDED.root_span_id, root_name = EXCLUDED.root_name,
                has_root = EXCLUDED.has_root, start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
                duration_ns = EXCLUDED.duration_ns, span_count = EXCLUDED.span_count, error_count = EXCLUDED.error_count,
                llm_call_count = EXCLUDED.llm_call_count, cost_usd = EXCLUDED.cost_usd,
                cost_unpriced_spans = EXCLUDED.cost_unpriced_spans, input_tokens = EXCLUDED.input_tokens,
                cached_input_tokens = EXCLUDED.cached_input_tokens, cache_write_5m_tokens = EXCLUDED.cache_write_5m_tokens,
                cache_write_1h_tokens = EXCLUDED.cache_write_1h_tokens, output_tokens = EXCLUDED.output_tokens,
                reasoning_tokens = EXCLUDED.reasoning_tokens, user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id,
                models = EXCLUDED.models, service_name = EXCLUDED.service_name, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    // MARK: Queries

    static let summaryColumns = """
        trace_id, project_id, root_span_id, root_name, has_root, start_time, end_time,
        (extract(epoch FROM start_time) * 1000000)::int8, duration_ns, span_count, error_count, llm_call_count,
        cost_usd::text, cost_unpriced_spans, input_tokens, cached_input_tokens, cache_write_5m_tokens,
        cache_write_1h_tokens, output_tokens, reasoning_tokens, user_id, session_id, models, service_name, updated_at
        """

    /// Traces newest first (start time desc, trace id desc), `limit` per page; pass the
    /// returned cursor back as `after` for the next page.
    public func listTraces(filter: TraceFilter, limit: Int, after cursor: TraceCursor? = nil) async throws -> TracePage {
        let limit = max(1, min(limit, 1_000))
        let sinceMicros = filter.since.map(microsSinceEpoch) ?? -10_000_000_000_000_000
        let untilMicros = filter.until.map(microsSinceEpoch) ?? 10_000_000_000_000_000
        let hasProject = filter.projectID != nil
        let projectID = filter.projectID ?? UUID()
        let status = filter.status?.rawValue ?? ""
        let model = filter.model ?? ""
        let userID = filter.userID ?? ""
        let hasUser = filter.userID != nil
        let sessionID = filter.sessionID ?? ""
        let hasSession = filter.sessionID != nil
        let minCost = filter.minCostUSD
        if let minCost, Decimal(string: minCost, locale: Locale(identifier: "en_US_POSIX")) == nil {
            throw StoreError(code: .invalidArgument, message: "min_cost_usd \"\(minCost)\" is not a decimal number; send e.g. \"0.05\"")
        }
        let minDuration = filter.minDurationNanos ?? 0
        let namePattern = filter.nameContains.map { "%" + Self.escapeLike($0) + "%" } ?? ""
        let hasCursor = cursor != nil
        let cursorMicros = cursor?.startMicros ?? 0
        let cursorTrace = cursor?.traceID ?? ""
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.summaryColumns) FROM traces
            WHERE start_time >= 'epoch'::timestamptz + \(sinceMicros) * interval '1 microsecond'
              AND start_time < 'epoch'::timestamptz + \(untilMicros) * interval '1 microsecond'
              AND (NOT \(hasProject) OR project_id = \(projectID))
              AND (\(status) = '' OR (\(status) = 'error') = (error_count > 0))
              AND (\(model) = '' OR models @> ARRAY[\(model)]::text[])
              AND (NOT \(hasUser) OR user_id = \(userID))
              AND (NOT \(hasSession) OR session_id = \(sessionID))
              AND (\(minCost)::numeric IS NULL OR cost_usd >= \(minCost)::numeric)
              AND duration_ns >= \(minDuration)
              AND (\(namePattern) = '' OR root_name ILIKE \(namePattern) ESCAPE '\\')
              AND (NOT \(hasCursor) OR (start_time, trace_id)
                   < ('epoch'::timestamptz + \(cursorMicros) * interval '1 microsecond', \(cursorTrace)))
            ORDER BY start_time DESC, trace_id DESC
            LIMIT \(limit + 1)
            """, logger: logger)
        var traces = try await Self.decodeSummaries(rows)
        var next: TraceCursor?
        if traces.count > limit {
            traces.removeLast(traces.count - limit)
            next = traces.last.map(TraceCursor.init(after:))
        }
        return TracePage(traces: traces, next: next)
    }

    /// The costliest traces that started in `[since, until)`, most expensive first (then
    /// newest): "top traces by cost". `model` matches any span's model, `userID` the trace's.
    public func costliestTraces(since: Date, until: Date, projectID: UUID?, model: String?, userID: String?,
                                limit: Int) async throws -> [TraceSummary] {
        let hasProject = projectID != nil
        let model = model ?? ""
        let hasUser = userID != nil
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.summaryColumns) FROM traces
            WHERE start_time >= \(since) AND start_time < \(until)
              AND (NOT \(hasProject) OR project_id = \(projectID ?? UUID()))
              AND (\(model) = '' OR models @> ARRAY[\(model)]::text[])
              AND (NOT \(hasUser) OR user_id = \(userID ?? ""))
            ORDER BY cost_usd DESC, start_time DESC, trace_id DESC
            LIMIT \(max(1, min(limit, 1_000)))
            """, logger: logger)
        return try await Self.decodeSummaries(rows)
    }

    /// One trace's summary, `nil` when this tenant has no such trace.
    public func summary(traceID: String) async throws -> TraceSummary? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.summaryColumns) FROM traces WHERE trace_id = \(traceID)", logger: logger)
        return try await Self.decodeSummaries(rows).first
    }

    static let spanColumns = """
        trace_id, span_id, parent_span_id, project_id, name, category, start_unix_nano::text, end_unix_nano::text,
        is_error, error_flags, error_message, provider, request_model, response_model, input_tokens, cached_input_tokens,
        cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd::text, unpriced_reason,
        reported_cost_usd::text, finish_reason, user_id, session_id, service_name, tool_name, attributes::text,
        events::text, coalesce(content::text, '')
        """

    /// Every span of a trace, by start time (then span id): the waterfall's rows. Empty when
    /// this tenant has no such trace.
    public func spans(traceID: String) async throws -> [NormalizedSpan] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.spanColumns) FROM spans WHERE trace_id = \(traceID)
            ORDER BY start_unix_nano, span_id
            """, logger: logger)
        var result: [NormalizedSpan] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            let category = try c[5].decode(String.self)
            let tokens = TokenUsage(
                uncachedInput: Int(try c[14].decode(Int64.self)), cacheRead: Int(try c[15].decode(Int64.self)),
                cacheWrite5m: Int(try c[16].decode(Int64.self)), cacheWrite1h: Int(try c[17].decode(Int64.self)),
                output: Int(try c[18].decode(Int64.self)), reasoning: Int(try c[19].decode(Int64.self)))
            result.append(NormalizedSpan(
                traceID: try c[0].decode(String.self), spanID: try c[1].decode(String.self),
                parentSpanID: try c[2].decode(String.self), projectID: try c[3].decode(UUID.self),
                name: try c[4].decode(String.self), category: SpanCategory(rawValue: category) ?? .other,
                startTimeUnixNano: UInt64(try c[6].decode(String.self)) ?? 0,
                endTimeUnixNano: UInt64(try c[7].decode(String.self)) ?? 0,
                isError: try c[8].decode(Bool.self),
                errorFlags: SpanErrorFlags(rawValue: Int(try c[9].decode(Int32.self))),
                errorMessage: try c[10].decode(String.self), provider: try c[11].decode(String.self),
                requestModel: try c[12].decode(String.self), responseModel: try c[13].decode(String.self),
                tokens: tokens, costUSD: try c[20].decode(String?.self).map(Self.trimmed),
                unpricedReason: try c[21].decode(String.self),
                reportedCostUSD: try c[22].decode(String?.self).map(Self.trimmed),
                finishReason: try c[23].decode(String.self), userID: try c[24].decode(String.self),
                sessionID: try c[25].decode(String.self), serviceName: try c[26].decode(String.self),
                toolName: try c[27].decode(String.self), attributesJSON: try c[28].decode(String.self),
                eventsJSON: try c[29].decode(String.self), contentJSON: try c[30].decode(String.self)))
        }
        return result
    }

    // MARK: Retention

    /// Deletes up to `batchSize` traces (and all their spans) that started before their
    /// project's retention (`projects.trace_retention_days`, 30 days for a project that no
    /// longer exists). Skips rows a concurrent writer holds, so it never waits on ingest;
    /// call it repeatedly, each in its own short transaction, until it returns 0 traces.
    public func deleteExpired(now: Date, batchSize: Int) async throws -> (traces: Int, spans: Int) {
        let nowMicros = microsSinceEpoch(now)
        let rows = try await connection.query("""
            WITH doomed AS (
                SELECT t.trace_id FROM traces AS t LEFT JOIN projects AS p ON p.id = t.project_id
                WHERE t.start_time < 'epoch'::timestamptz + \(nowMicros) * interval '1 microsecond'
                                     - make_interval(days => coalesce(p.trace_retention_days, \(Int32(ProjectRecord.defaultTraceRetentionDays))))
                LIMIT \(max(1, batchSize))
                FOR UPDATE OF t SKIP LOCKED
            ), gone_spans AS (
                DELETE FROM spans AS s USING doomed AS d WHERE s.trace_id = d.trace_id RETURNING 1
            ), gone_traces AS (
                DELETE FROM traces AS t USING doomed AS d WHERE t.trace_id = d.trace_id RETURNING 1
            )
            SELECT (SELECT count(*) FROM gone_traces)::int8, (SELECT count(*) FROM gone_spans)::int8
            """, logger: logger)
        var result = (traces: 0, spans: 0)
        for try await (traces, spans) in rows.decode((Int64, Int64).self) {
            result = (Int(traces), Int(spans))
        }
        return result
    }

    // MARK: Helpers

    static func decodeSummaries(_ rows: PostgresRowSequence) async throws -> [TraceSummary] {
        var result: [TraceSummary] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            let tokens = TokenUsage(
                uncachedInput: Int(try c[14].decode(Int64.self)), cacheRead: Int(try c[15].decode(Int64.self)),
                cacheWrite5m: Int(try c[16].decode(Int64.self)), cacheWrite1h: Int(try c[17].decode(Int64.self)),
                output: Int(try c[18].decode(Int64.self)), reasoning: Int(try c[19].decode(Int64.self)))
            result.append(TraceSummary(
                traceID: try c[0].decode(String.self), projectID: try c[1].decode(UUID.self),
                rootSpanID: try c[2].decode(String.self), rootName: try c[3].decode(String.self),
                hasRoot: try c[4].decode(Bool.self), startTime: try c[5].decode(Date.self),
                endTime: try c[6].decode(Date.self), startMicros: try c[7].decode(Int64.self),
                durationNanos: try c[8].decode(Int64.self), spanCount: Int(try c[9].decode(Int32.self)),
                errorCount: Int(try c[10].decode(Int32.self)), llmCallCount: Int(try c[11].decode(Int32.self)),
                costUSD: Self.trimmed(try c[12].decode(String.self)),
                costUnpricedSpans: Int(try c[13].decode(Int32.self)), tokens: tokens,
                userID: try c[20].decode(String.self), sessionID: try c[21].decode(String.self),
                models: try c[22].decode([String].self), serviceName: try c[23].decode(String.self),
                updatedAt: try c[24].decode(Date.self)))
        }
        return result
    }

    /// `%`, `_` and `\` match themselves in an `ILIKE … ESCAPE '\'` pattern.
    static func escapeLike(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            if character == "\\" || character == "%" || character == "_" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// "0.000375000000" → "0.000375"; "2.000000000000" → "2".
    static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var out = Substring(text)
        while out.hasSuffix("0") { out = out.dropLast() }
        if out.hasSuffix(".") { out = out.dropLast() }
        return String(out)
    }
}
