-- Tenant schema, version 6: the analytics rollup. One row per UTC hour, project, provider,
-- model (as requested), API key and route, kept current in the same statement that inserts
-- usage events (from the events that statement actually inserted, like usage_hourly), so the
-- analytics API (AnalyticsService) answers from here and never scans usage_events.
--
-- route_id is the zero uuid for requests that did not go through a route.
-- latency_buckets is a fixed histogram of latency_ms with 11 buckets over the upper bounds
-- 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000 ms and +inf: element i (1-based)
-- counts latencies in [bound[i-1], bound[i]) with bound[0] = 0, i.e. element
-- width_bucket(latency_ms, bounds) + 1. Changing the bounds needs a new table: the
-- analytics code reads them from UsageRollup.latencyBoundsMs.
CREATE TABLE usage_rollup_hourly (
    hour                  timestamptz NOT NULL,
    project_id            uuid NOT NULL,
    provider              text NOT NULL,
    model                 text NOT NULL,
    api_key_id            uuid NOT NULL,
    route_id              uuid NOT NULL,
    requests              int8 NOT NULL DEFAULT 0,
    errors                int8 NOT NULL DEFAULT 0,
    unpriced_requests     int8 NOT NULL DEFAULT 0,
    input_tokens          int8 NOT NULL DEFAULT 0,
    cached_input_tokens   int8 NOT NULL DEFAULT 0,
    cache_write_5m_tokens int8 NOT NULL DEFAULT 0,
    cache_write_1h_tokens int8 NOT NULL DEFAULT 0,
    output_tokens         int8 NOT NULL DEFAULT 0,
    reasoning_tokens      int8 NOT NULL DEFAULT 0,
    cost_usd              numeric(38, 12) NOT NULL DEFAULT 0,
    latency_ms_sum        int8 NOT NULL DEFAULT 0,
    latency_buckets       int8[] NOT NULL CHECK (cardinality(latency_buckets) = 11),
    PRIMARY KEY (hour, project_id, provider, model, api_key_id, route_id)
);
CREATE INDEX usage_rollup_hourly_project_hour_idx ON usage_rollup_hourly (project_id, hour);

-- Backfill from the events recorded before this version.
INSERT INTO usage_rollup_hourly (hour, project_id, provider, model, api_key_id, route_id, requests, errors,
    unpriced_requests, input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens,
    reasoning_tokens, cost_usd, latency_ms_sum, latency_buckets)
SELECT date_trunc('hour', occurred_at, 'UTC'), project_id, provider, model, api_key_id,
       coalesce(route_id, '00000000-0000-0000-0000-000000000000'::uuid),
       count(*), count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE NOT priced),
       sum(input_tokens), sum(cached_input_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens),
       sum(output_tokens), sum(reasoning_tokens), coalesce(sum(cost_usd), 0), sum(latency_ms::int8),
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
FROM usage_events
GROUP BY 1, 2, 3, 4, 5, 6;
