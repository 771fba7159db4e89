-- Synthetic data for the dashboard benchmark (`make bench-dashboard`), written straight into
-- one tenant schema: :events usage events over the last :days days with their three rollups
-- (usage_hourly, usage_rollup_hourly, usage_key_monthly — exactly what the usage writer keeps
-- on write, the daily one included), and :traces traces of 10 spans each over the last 29 days (inside the default
-- 30-day trace retention) with their per-trace summaries.
--
--   psql -v schema=t_… -v events=10000000 -v traces=100000 -v days=90 -f generate.sql
--
-- Projects and API keys are the tenant's real ones (created by the benchmark through
-- llmlab-admin), so every page shows names it can resolve. Values are deterministic
-- functions of the row number: the same arguments give the same data.
\set ON_ERROR_STOP on
\o /dev/null
SELECT set_config('search_path', :'schema', false);
SELECT set_config('bench.events', :'events', false), set_config('bench.traces', :'traces', false),
       set_config('bench.days', :'days', false);
\o

-- (provider, model, input $/Mtok, output $/Mtok): prices close to the catalog's.
CREATE TEMP TABLE bench_models (i int PRIMARY KEY, provider text, model text, input_price numeric, output_price numeric);
INSERT INTO bench_models VALUES
  (0, 'openai', 'gpt-4o', 2.5, 10), (1, 'openai', 'gpt-4o-mini', 0.15, 0.6), (2, 'openai', 'gpt-5', 1.25, 10),
  (3, 'anthropic', 'claude-sonnet-4-5', 3, 15), (4, 'anthropic', 'claude-haiku-4-5', 1, 5),
  (5, 'gemini', 'gemini-2.5-flash', 0.3, 2.5), (6, 'gemini', 'gemini-2.5-pro', 1.25, 10),
  (7, 'azure_openai', 'gpt-4o', 2.5, 10);

-- Every live key of the tenant with its project (keys without a project are skipped).
CREATE TEMP TABLE bench_keys AS
  SELECT row_number() OVER (ORDER BY k.id) - 1 AS i, k.id AS api_key_id, k.project_id
  FROM control.api_keys k JOIN control.tenants t ON t.id = k.tenant_id
  WHERE t.schema_name = :'schema' AND k.project_id IS NOT NULL AND k.revoked_at IS NULL;
DO $$ BEGIN
  IF (SELECT count(*) FROM bench_keys) = 0 THEN RAISE EXCEPTION 'the tenant has no API key with a project'; END IF;
END $$;

\echo '==> usage events'
\timing on
DO $$
DECLARE
  total bigint := current_setting('bench.events')::bigint;
  days int := current_setting('bench.days')::int;
  chunk bigint := 1000000;
  first bigint := 1;
  nkeys int := (SELECT count(*) FROM bench_keys);
  origin timestamptz := now() - make_interval(days => days);
  step float8 := days * 86400.0 / total;
BEGIN
  WHILE first <= total LOOP
    INSERT INTO usage_events (request_id, occurred_at, project_id, api_key_id, route_id, deployment, provider, model,
        response_model, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_usd, priced,
        latency_ms, ttft_ms, status, error_class, streamed, end_user)
    SELECT 'bench-' || g, origin + make_interval(secs => g * step), k.project_id, k.api_key_id, NULL, '', m.provider, m.model,
           m.model, x.input, x.cached, x.output, 0,
           CASE WHEN x.ok THEN ((x.input - x.cached) * m.input_price + x.cached * m.input_price / 2 + x.output * m.output_price) / 1000000 ELSE 0 END,
           true, 150 + (g * 37) % 4000, CASE WHEN g % 3 = 0 THEN 80 + (g * 13) % 400 END,
           CASE WHEN x.ok THEN 200 WHEN g % 2 = 0 THEN 429 ELSE 500 END,
           CASE WHEN x.ok THEN '' WHEN g % 2 = 0 THEN 'rate_limited' ELSE 'upstream_error' END, g % 3 = 0,
           CASE WHEN g % 5 = 0 THEN '' ELSE 'user-' || (g * 31) % 2000 END
    FROM generate_series(first, least(first + chunk - 1, total)) AS g
    CROSS JOIN LATERAL (SELECT 400 + (g * 7) % 3000 AS input,
                               CASE WHEN g % 4 = 0 THEN 200 ELSE 0 END AS cached,
                               40 + (g * 11) % 800 AS output,
                               g % 53 <> 0 AS ok) x
    JOIN bench_keys k ON k.i = (g * 7919) % nkeys
    JOIN bench_models m ON m.i = ((g * 104729) % 97) % 8;
    RAISE NOTICE 'usage events: % of %', least(first + chunk - 1, total), total;
    COMMIT;
    first := first + chunk;
  END LOOP;
END $$;

\echo '==> rollups (usage_hourly, usage_rollup_hourly, usage_user_daily, usage_key_monthly)'
INSERT INTO usage_hourly (project_id, provider, model, hour, requests, errors, unpriced_requests, input_tokens,
    cached_input_tokens, output_tokens, reasoning_tokens, cost_usd)
SELECT project_id, provider, model, date_trunc('hour', occurred_at, 'UTC'), count(*), count(*) FILTER (WHERE status >= 400),
       0, sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), 0, sum(cost_usd)
FROM usage_events WHERE request_id LIKE 'bench-%'
GROUP BY 1, 2, 3, 4
ON CONFLICT (project_id, provider, model, hour) DO UPDATE SET
  requests = usage_hourly.requests + EXCLUDED.requests, errors = usage_hourly.errors + EXCLUDED.errors,
  input_tokens = usage_hourly.input_tokens + EXCLUDED.input_tokens,
  cached_input_tokens = usage_hourly.cached_input_tokens + EXCLUDED.cached_input_tokens,
  output_tokens = usage_hourly.output_tokens + EXCLUDED.output_tokens, cost_usd = usage_hourly.cost_usd + EXCLUDED.cost_usd;

INSERT INTO usage_rollup_hourly (hour, project_id, provider, model, api_key_id, route_id, requests, errors,
    unpriced_requests, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_usd, latency_ms_sum, latency_buckets)
SELECT date_trunc('hour', occurred_at, 'UTC'), project_id, provider, model, api_key_id, '00000000-0000-0000-0000-000000000000'::uuid,
       count(*), count(*) FILTER (WHERE status >= 400), 0, sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), 0,
       sum(cost_usd), sum(latency_ms::int8),
       ARRAY[
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 0),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 1),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 2),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 3),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 4),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 5),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 6),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 7),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 8),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 9),
           count(*) FILTER (WHERE width_bucket(latency_ms, ARRAY[50,100,250,500,1000,2500,5000,10000,30000,60000]) = 10)
       ]::int8[]
FROM usage_events WHERE request_id LIKE 'bench-%'
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO usage_rollup_daily (day, project_id, provider, model, api_key_id, route_id, requests, errors,
    unpriced_requests, input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens,
    reasoning_tokens, cost_usd, latency_ms_sum, latency_buckets)
SELECT date_trunc('day', hour, 'UTC'), project_id, provider, model, api_key_id, route_id, sum(requests), sum(errors),
       sum(unpriced_requests), sum(input_tokens), sum(cached_input_tokens), sum(cache_write_5m_tokens),
       sum(cache_write_1h_tokens), sum(output_tokens), sum(reasoning_tokens), sum(cost_usd), sum(latency_ms_sum),
       ARRAY[sum(latency_buckets[1]), sum(latency_buckets[2]), sum(latency_buckets[3]), sum(latency_buckets[4]), sum(latency_buckets[5]), sum(latency_buckets[6]), sum(latency_buckets[7]), sum(latency_buckets[8]), sum(latency_buckets[9]), sum(latency_buckets[10]), sum(latency_buckets[11])]::int8[]
FROM usage_rollup_hourly GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO usage_user_daily (day, project_id, end_user, requests, errors, unpriced_requests,
    input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_usd)
SELECT date_trunc('day', occurred_at, 'UTC'), project_id, end_user, count(*),
       count(*) FILTER (WHERE status >= 400), 0, sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), 0, sum(cost_usd)
FROM usage_events WHERE request_id LIKE 'bench-%'
GROUP BY 1, 2, 3;

INSERT INTO usage_key_monthly (api_key_id, month, requests, cost_usd)
SELECT api_key_id, (date_trunc('month', occurred_at, 'UTC') AT TIME ZONE 'UTC')::date, count(*), sum(cost_usd)
FROM usage_events WHERE request_id LIKE 'bench-%'
GROUP BY 1, 2
ON CONFLICT (api_key_id, month) DO UPDATE SET
  requests = usage_key_monthly.requests + EXCLUDED.requests, cost_usd = usage_key_monthly.cost_usd + EXCLUDED.cost_usd;

\echo '==> spans and traces'
-- Each trace: an agent root, 4 LLM calls, 3 tool calls (every 20th trace has a failing
-- tool), 2 chain steps; one span every 200 ms, 150 ms long; the root spans them all.
DO $$
DECLARE
  total bigint := current_setting('bench.traces')::bigint;
  chunk bigint := 100000;
  first bigint := 1;
  origin timestamptz := now() - interval '29 days';
  step float8 := 29 * 86400.0 / total;
BEGIN
  WHILE first <= total LOOP
    INSERT INTO spans (trace_id, span_id, parent_span_id, project_id, name, category, start_time, end_time,
        start_unix_nano, end_unix_nano, duration_ns, is_error, error_flags, error_message, provider, request_model,
        response_model, input_tokens, cached_input_tokens, output_tokens, cost_usd, finish_reason, user_id, session_id,
        service_name, tool_name)
    SELECT md5('trace' || t), left(md5('span' || t || '-' || s), 16), CASE WHEN s = 0 THEN '' ELSE left(md5('span' || t || '-0'), 16) END,
           k.project_id,
           CASE WHEN s = 0 THEN 'agent.run' WHEN s <= 4 THEN 'chat ' || m.model WHEN s <= 7 THEN 'tool.search_' || s ELSE 'chain.step_' || s END,
           CASE WHEN s = 0 THEN 'agent' WHEN s <= 4 THEN 'llm' WHEN s <= 7 THEN 'tool' ELSE 'chain' END,
           st, st + CASE WHEN s = 0 THEN interval '2150 ms' ELSE interval '150 ms' END,
           (extract(epoch FROM st) * 1000000)::numeric * 1000, (extract(epoch FROM st + CASE WHEN s = 0 THEN interval '2150 ms' ELSE interval '150 ms' END) * 1000000)::numeric * 1000,
           CASE WHEN s = 0 THEN 2150000000 ELSE 150000000 END,
           (t % 20 = 0 AND s IN (0, 7)), CASE WHEN t % 20 = 0 AND s IN (0, 7) THEN 1 ELSE 0 END,
           CASE WHEN t % 20 = 0 AND s = 7 THEN 'TimeoutError: search backend did not answer' ELSE '' END,
           CASE WHEN s BETWEEN 1 AND 4 THEN m.provider ELSE '' END,
           CASE WHEN s BETWEEN 1 AND 4 THEN m.model ELSE '' END, CASE WHEN s BETWEEN 1 AND 4 THEN m.model ELSE '' END,
           CASE WHEN s BETWEEN 1 AND 4 THEN 800 + (t % 900) ELSE 0 END, 0, CASE WHEN s BETWEEN 1 AND 4 THEN 120 + (t % 300) ELSE 0 END,
           CASE WHEN s BETWEEN 1 AND 4 THEN ((800 + (t % 900)) * m.input_price + (120 + (t % 300)) * m.output_price) / 1000000 END,
           CASE WHEN s BETWEEN 1 AND 4 THEN 'stop' ELSE '' END,
           'user-' || (t % 500), 'session-' || (t / 3), 'support-agent', CASE WHEN s BETWEEN 5 AND 7 THEN 'search_' || s ELSE '' END
    FROM generate_series(first, least(first + chunk - 1, total)) AS t
    CROSS JOIN generate_series(0, 9) AS s
    CROSS JOIN LATERAL (SELECT origin + make_interval(secs => t * step) + make_interval(secs => CASE WHEN s = 0 THEN 0 ELSE s * 0.2 END) AS st) x
    JOIN bench_keys k ON k.i = (t * 7919) % (SELECT count(*) FROM bench_keys)
    JOIN bench_models m ON m.i = (t * 31) % 8;
    RAISE NOTICE 'traces: % of %', least(first + chunk - 1, total), total;
    COMMIT;
    first := first + chunk;
  END LOOP;
END $$;

INSERT INTO traces (trace_id, project_id, root_span_id, root_name, has_root, start_time, end_time, duration_ns, span_count,
    error_count, llm_call_count, cost_usd, input_tokens, cached_input_tokens, output_tokens, user_id, session_id, models, service_name)
SELECT trace_id, min(project_id::text)::uuid, min(span_id) FILTER (WHERE parent_span_id = ''), min(name) FILTER (WHERE parent_span_id = ''),
       true, min(start_time), max(end_time), (extract(epoch FROM max(end_time) - min(start_time)) * 1e9)::int8, count(*),
       count(*) FILTER (WHERE is_error), count(*) FILTER (WHERE category = 'llm'), coalesce(sum(cost_usd), 0),
       sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), min(user_id), min(session_id),
       array_agg(DISTINCT request_model) FILTER (WHERE request_model <> ''), min(service_name)
FROM spans WHERE trace_id IN (SELECT md5('trace' || t) FROM generate_series(1, current_setting('bench.traces')::bigint) t)
GROUP BY trace_id
ON CONFLICT (trace_id) DO NOTHING;

\echo '==> analyse'
ANALYZE usage_events; ANALYZE usage_hourly; ANALYZE usage_rollup_hourly; ANALYZE usage_rollup_daily; ANALYZE usage_user_daily; ANALYZE usage_key_monthly; ANALYZE spans; ANALYZE traces;
