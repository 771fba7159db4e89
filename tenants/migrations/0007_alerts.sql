-- Tenant schema, version 7: budget alerts. Channels are where alerts go (webhooks for now);
-- deliveries are the outbox and the delivery log: one row per event and channel, retried
-- with backoff by the server's webhook deliverer until delivered or out of attempts.

CREATE TABLE alert_channels (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    kind          text NOT NULL DEFAULT 'webhook' CHECK (kind IN ('webhook')),
    url           text NOT NULL,
    -- The signing secret, sealed with the tenant's data key (like provider_keys), bound to
    -- tenant and channel id; only its last four characters are ever shown.
    sealed_secret bytea NOT NULL,
    last_four     text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alert_deliveries (
    id               uuid PRIMARY KEY,
    channel_id       uuid NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    event_kind       text NOT NULL,
    payload          jsonb NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    last_status_code integer,
    last_error       text NOT NULL DEFAULT '',
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_channel_idx ON alert_deliveries (channel_id, created_at DESC);

-- Budget events turned into deliveries: set once the alert evaluator has enqueued one
-- delivery per enabled channel (or found none). Events recorded before alerting existed
-- count as dispatched, so a first channel does not receive a backlog.
ALTER TABLE budget_events ADD COLUMN dispatched_at timestamptz;
UPDATE budget_events SET dispatched_at = now();
CREATE INDEX budget_events_undispatched_idx ON budget_events (occurred_at) WHERE dispatched_at IS NULL;
