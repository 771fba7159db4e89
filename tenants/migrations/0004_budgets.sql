-- Tenant schema, version 4: what budget enforcement reads and records.

-- Per API key and calendar month (UTC): the sum of its usage events' cost, maintained in
-- the same statement that inserts the events (like usage_hourly), so the proxy reads a
-- key's month-to-date spend with one primary-key lookup instead of scanning usage_events.
CREATE TABLE usage_key_monthly (
    api_key_id  uuid NOT NULL,
    month       date NOT NULL,
    requests    int8 NOT NULL DEFAULT 0,
    cost_usd    numeric(38, 12) NOT NULL DEFAULT 0,
    PRIMARY KEY (api_key_id, month)
);

-- Soft thresholds (50/80/100 % of a monthly budget) crossed, once per subject, period
-- and threshold (the primary key; the proxy inserts with ON CONFLICT DO NOTHING). The
-- alerting work reads this table. subject_id is the project id or the API key id.
CREATE TABLE budget_events (
    subject_kind  text NOT NULL CHECK (subject_kind IN ('project', 'api_key')),
    subject_id    uuid NOT NULL,
    project_id    uuid NOT NULL,
    period        date NOT NULL,
    threshold_pct integer NOT NULL CHECK (threshold_pct IN (50, 80, 100)),
    spent_usd     numeric(38, 12) NOT NULL,
    limit_usd     numeric(20, 6) NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject_kind, subject_id, period, threshold_pct)
);
CREATE INDEX budget_events_time_idx ON budget_events (occurred_at);
