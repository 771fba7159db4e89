-- Tenant schema, version 9: alert rules, the alert history, email channels.
--
-- alert_rules: what to alert on for one project or one API key. Without a rule, a subject
-- with a monthly budget alerts at 50, 80 and 100 % of it (the proxy's fixed thresholds).
-- A rule replaces the thresholds (an empty list turns threshold alerts off), may add the
-- month-end forecast check and a cost-spike check (spend of the last 60 minutes above
-- spike_factor × the mean hourly spend of the previous 168 hours, and at least
-- spike_min_usd, so tiny amounts never page anyone).
CREATE TABLE alert_rules (
    id            uuid PRIMARY KEY,
    subject_kind  text NOT NULL CHECK (subject_kind IN ('project', 'api_key')),
    subject_id    uuid NOT NULL,
    thresholds    integer[] NOT NULL DEFAULT ARRAY[50, 80, 100]
                  CHECK (cardinality(thresholds) <= 10 AND 0 < ALL (thresholds) AND 1000 >= ALL (thresholds)),
    forecast      boolean NOT NULL DEFAULT false,
    spike_factor  numeric(10, 4) CHECK (spike_factor IS NULL OR spike_factor > 1),
    spike_min_usd numeric(20, 6) CHECK (spike_min_usd IS NULL OR spike_min_usd >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject_kind, subject_id),
    CHECK ((spike_factor IS NULL) = (spike_min_usd IS NULL))
);

-- Every alert that fired, once per (kind, subject, period, threshold): the alert
-- evaluator inserts with ON CONFLICT DO NOTHING and enqueues deliveries only for a row it
-- actually inserted, so a crossing never alerts twice (also not when the proxy recorded
-- the same crossing in budget_events: the evaluator reads those as input).
--   kind budget_threshold: period 'YYYY-MM-DD' (month start), threshold = percent.
--   kind budget_forecast:  period 'YYYY-MM-DD' (month start), threshold = 100.
--   kind cost_spike:       period 'YYYY-MM-DDTHH:00:00Z' (the hour), threshold = 0.
-- observed_usd is the spend (threshold), the projected month-end spend (forecast) or the
-- last 60 minutes' spend (spike); limit_usd the budget, or spike_factor × baseline_usd.
CREATE TABLE alert_events (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('budget_threshold', 'budget_forecast', 'cost_spike')),
    subject_kind text NOT NULL CHECK (subject_kind IN ('project', 'api_key')),
    subject_id   uuid NOT NULL,
    project_id   uuid,
    subject_name text NOT NULL DEFAULT '',
    period       text NOT NULL,
    threshold    integer NOT NULL DEFAULT 0,
    observed_usd numeric(38, 12) NOT NULL,
    limit_usd    numeric(38, 12),
    baseline_usd numeric(38, 12),
    source       text NOT NULL DEFAULT 'evaluator' CHECK (source IN ('evaluator', 'proxy')),
    fired_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, subject_kind, subject_id, period, threshold)
);
CREATE INDEX alert_events_fired_idx ON alert_events (fired_at DESC, id);

-- A delivery made for an alert event (NULL for test deliveries).
ALTER TABLE alert_deliveries ADD COLUMN alert_event_id uuid REFERENCES alert_events (id) ON DELETE SET NULL;
CREATE INDEX alert_deliveries_event_idx ON alert_deliveries (alert_event_id) WHERE alert_event_id IS NOT NULL;

-- Email channels: recipients instead of a URL (url is '' for them); the SMTP server is
-- server-wide configuration.
ALTER TABLE alert_channels ADD COLUMN recipients text[] NOT NULL DEFAULT ARRAY[]::text[];
ALTER TABLE alert_channels DROP CONSTRAINT alert_channels_kind_check;
ALTER TABLE alert_channels ADD CONSTRAINT alert_channels_kind_check CHECK (kind IN ('webhook', 'slack', 'email'));
ALTER TABLE alert_channels ADD CONSTRAINT alert_channels_target_check
    CHECK ((kind = 'email') = (cardinality(recipients) > 0) AND (kind = 'email') = (url = ''));
