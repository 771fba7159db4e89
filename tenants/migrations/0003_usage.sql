-- Tenant schema, version 3: one usage event per proxy request, and an hourly rollup kept
-- up to date in the same transaction as each batch of events. Unqualified names; grants
-- by the provisioner.

-- One row per proxy request. request_id is the idempotency key: the usage writer inserts
-- with ON CONFLICT (request_id) DO NOTHING, so a replayed spool file never double counts.
-- Token classes are the normalised billing classes (uncached input, cache read, cache
-- writes, output without reasoning, reasoning). cost_usd is exact; NULL when unpriced,
-- and then unpriced_reason says why (never a silent zero).
CREATE TABLE usage_events (
    request_id         text PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 200),
    occurred_at        timestamptz NOT NULL,
    project_id         uuid NOT NULL,
    api_key_id         uuid NOT NULL,
    route_id           uuid,
    deployment         text NOT NULL DEFAULT '',
    provider           text NOT NULL,
    model              text NOT NULL,
    response_model     text NOT NULL DEFAULT '',
    input_tokens       int8 NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    cached_input_tokens int8 NOT NULL DEFAULT 0 CHECK (cached_input_tokens >= 0),
    cache_write_5m_tokens int8 NOT NULL DEFAULT 0 CHECK (cache_write_5m_tokens >= 0),
    cache_write_1h_tokens int8 NOT NULL DEFAULT 0 CHECK (cache_write_1h_tokens >= 0),
    output_tokens      int8 NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    reasoning_tokens   int8 NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0),
    cost_usd           numeric(30, 12) CHECK (cost_usd IS NULL OR cost_usd >= 0),
    priced             boolean NOT NULL,
    unpriced_reason    text NOT NULL DEFAULT '',
    latency_ms         integer NOT NULL CHECK (latency_ms >= 0),
    ttft_ms            integer CHECK (ttft_ms IS NULL OR ttft_ms >= 0),
    status             integer NOT NULL,
    error_class        text NOT NULL DEFAULT '',
    traceparent        text NOT NULL DEFAULT '',
    streamed           boolean NOT NULL,
    cache_hit          boolean NOT NULL DEFAULT false,
    CHECK (priced = (cost_usd IS NOT NULL)),
    CHECK (priced OR unpriced_reason <> '')
);
CREATE INDEX usage_events_time_idx ON usage_events (occurred_at);
CREATE INDEX usage_events_project_time_idx ON usage_events (project_id, occurred_at);

-- Per project, provider, model (as requested) and UTC hour: sums of the events above.
-- Maintained on write, from the events a batch actually inserted.
CREATE TABLE usage_hourly (
    project_id            uuid NOT NULL,
    provider              text NOT NULL,
    model                 text NOT NULL,
    hour                  timestamptz NOT NULL,
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
    PRIMARY KEY (project_id, provider, model, hour)
);
