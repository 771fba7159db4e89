-- Tenant schema, version 5: traces. One row per span (what OTLP ingest delivers, mapped to
-- NormalizedSpan) and one summary row per trace, recomputed from the spans in the same
-- transaction as each batch, so trace lists never aggregate spans at read time.
-- Unqualified names; the provisioner grants SELECT/INSERT/UPDATE/DELETE on every table.

-- (trace_id, span_id) is the idempotency key: the span writer inserts with
-- ON CONFLICT DO NOTHING, so a replayed spool file or an exporter's retry never duplicates.
-- Times are kept twice: timestamptz (microseconds, for indexes and ranges) and exact Unix
-- nanoseconds (numeric: uint64 does not fit int8 in general) for waterfalls.
-- cost_usd is our exact cost, NULL when unpriced (unpriced_reason says why);
-- reported_cost_usd is what the span itself carried. content is NULL unless the project
-- captures content (prompts, completions, tool arguments).
CREATE TABLE spans (
    trace_id              text NOT NULL CHECK (length(trace_id) BETWEEN 1 AND 64),
    span_id               text NOT NULL CHECK (length(span_id) BETWEEN 1 AND 64),
    parent_span_id        text NOT NULL DEFAULT '',
    project_id            uuid NOT NULL,
    name                  text NOT NULL,
    category              text NOT NULL,
    start_time            timestamptz NOT NULL,
    end_time              timestamptz NOT NULL,
    start_unix_nano       numeric(20, 0) NOT NULL,
    end_unix_nano         numeric(20, 0) NOT NULL,
    duration_ns           int8 NOT NULL CHECK (duration_ns >= 0),
    is_error              boolean NOT NULL DEFAULT false,
    error_flags           integer NOT NULL DEFAULT 0,
    error_message         text NOT NULL DEFAULT '',
    provider              text NOT NULL DEFAULT '',
    request_model         text NOT NULL DEFAULT '',
    response_model        text NOT NULL DEFAULT '',
    input_tokens          int8 NOT NULL DEFAULT 0,
    cached_input_tokens   int8 NOT NULL DEFAULT 0,
    cache_write_5m_tokens int8 NOT NULL DEFAULT 0,
    cache_write_1h_tokens int8 NOT NULL DEFAULT 0,
    output_tokens         int8 NOT NULL DEFAULT 0,
    reasoning_tokens      int8 NOT NULL DEFAULT 0,
    cost_usd              numeric(30, 12),
    unpriced_reason       text NOT NULL DEFAULT '',
    reported_cost_usd     numeric(30, 12),
    finish_reason         text NOT NULL DEFAULT '',
    user_id               text NOT NULL DEFAULT '',
    session_id            text NOT NULL DEFAULT '',
    service_name          text NOT NULL DEFAULT '',
    tool_name             text NOT NULL DEFAULT '',
    attributes            jsonb NOT NULL DEFAULT '{}'::jsonb,
    events                jsonb NOT NULL DEFAULT '[]'::jsonb,
    content               jsonb,
    PRIMARY KEY (trace_id, span_id)
);
-- GetTrace reads by the primary key prefix (trace_id); retention deletes by project and age.
CREATE INDEX spans_project_start_idx ON spans (project_id, start_time DESC);
CREATE INDEX spans_session_idx ON spans (session_id, start_time DESC) WHERE session_id <> '';
CREATE INDEX spans_user_idx ON spans (user_id, start_time DESC) WHERE user_id <> '';
-- "Traces that used model X": any span's request or response model.
CREATE INDEX spans_request_model_idx ON spans (request_model, trace_id) WHERE request_model <> '';
CREATE INDEX spans_response_model_idx ON spans (response_model, trace_id) WHERE response_model <> '';

-- One row per trace, recomputed from its spans whenever a batch touches it. The root is the
-- span without a parent (else the earliest span), so a trace whose root has not arrived yet
-- still has a summary, corrected when the root comes. models: every request/response model.
CREATE TABLE traces (
    trace_id              text PRIMARY KEY,
    project_id            uuid NOT NULL,
    root_span_id          text NOT NULL,
    root_name             text NOT NULL,
    has_root              boolean NOT NULL,
    start_time            timestamptz NOT NULL,
    end_time              timestamptz NOT NULL,
    duration_ns           int8 NOT NULL,
    span_count            integer NOT NULL,
    error_count           integer NOT NULL,
    llm_call_count        integer NOT NULL,
    cost_usd              numeric(38, 12) NOT NULL DEFAULT 0,
    cost_unpriced_spans   integer NOT NULL DEFAULT 0,
    input_tokens          int8 NOT NULL DEFAULT 0,
    cached_input_tokens   int8 NOT NULL DEFAULT 0,
    cache_write_5m_tokens int8 NOT NULL DEFAULT 0,
    cache_write_1h_tokens int8 NOT NULL DEFAULT 0,
    output_tokens         int8 NOT NULL DEFAULT 0,
    reasoning_tokens      int8 NOT NULL DEFAULT 0,
    user_id               text NOT NULL DEFAULT '',
    session_id            text NOT NULL DEFAULT '',
    models                text[] NOT NULL DEFAULT ARRAY[]::text[],
    service_name          text NOT NULL DEFAULT '',
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX traces_project_start_idx ON traces (project_id, start_time DESC, trace_id DESC);
CREATE INDEX traces_start_idx ON traces (start_time DESC, trace_id DESC);
CREATE INDEX traces_session_idx ON traces (session_id, start_time DESC) WHERE session_id <> '';
CREATE INDEX traces_user_idx ON traces (user_id, start_time DESC) WHERE user_id <> '';
CREATE INDEX traces_cost_idx ON traces (cost_usd);
CREATE INDEX traces_duration_idx ON traces (duration_ns);
CREATE INDEX traces_models_idx ON traces USING gin (models);

-- Per-project trace settings: how long spans are kept, and whether content is stored.
ALTER TABLE projects
    ADD COLUMN trace_retention_days integer NOT NULL DEFAULT 30 CHECK (trace_retention_days BETWEEN 1 AND 3650),
    ADD COLUMN capture_content boolean NOT NULL DEFAULT false;
