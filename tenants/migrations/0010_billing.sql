-- Tenant schema, version 10: provider invoice reconciliation. Connections pull what each
-- provider billed (OpenAI / Anthropic admin APIs, Azure Cost Management); billed_costs keeps
-- the normalised lines, from syncs and CSV imports alike; billing_sync_runs is the log.

CREATE TABLE billing_connections (
    id                   uuid PRIMARY KEY,
    kind                 text NOT NULL CHECK (kind IN ('openai', 'anthropic', 'azure')),
    name                 text NOT NULL UNIQUE,
    -- The admin key (OpenAI, Anthropic) or client secret (Azure), sealed with the tenant's
    -- data key (like provider_keys), bound to tenant and connection id; only its last four
    -- characters are ever shown.
    sealed_credential    bytea NOT NULL,
    credential_last_four text NOT NULL,
    -- Non-secret settings: organization, project_id, scope, tenant_id, client_id, base_url…
    settings             jsonb NOT NULL DEFAULT '{}'::jsonb,
    schedule             text NOT NULL DEFAULT 'daily' CHECK (schedule IN ('daily', 'hourly')),
    disabled             boolean NOT NULL DEFAULT false,
    last_sync_at         timestamptz,
    last_sync_status     text NOT NULL DEFAULT 'never' CHECK (last_sync_status IN ('never', 'succeeded', 'failed')),
    last_sync_error      text NOT NULL DEFAULT '',
    consecutive_failures integer NOT NULL DEFAULT 0,
    -- When the scheduler next pulls it (moved forward while a sync runs, as a lease).
    next_sync_at         timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_connections_due_idx ON billing_connections (next_sync_at) WHERE NOT disabled;

-- What was billed, per source (a connection, or an import format), provider, UTC day,
-- model ('' when the bill does not name one) and line item. The key makes re-syncs and
-- re-imports replace rather than add.
CREATE TABLE billed_costs (
    source      text NOT NULL,
    provider    text NOT NULL,
    day         date NOT NULL,
    model       text NOT NULL,
    line_item   text NOT NULL,
    amount_usd  numeric(38, 12) NOT NULL,
    currency    text NOT NULL DEFAULT 'USD',
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, provider, day, model, line_item)
);
CREATE INDEX billed_costs_day_idx ON billed_costs (day, provider);

CREATE TABLE billing_sync_runs (
    id            uuid PRIMARY KEY,
    -- NULL for CSV imports.
    connection_id uuid REFERENCES billing_connections (id) ON DELETE CASCADE,
    source        text NOT NULL,
    trigger       text NOT NULL CHECK (trigger IN ('manual', 'scheduled', 'import')),
    first_day     date NOT NULL,
    last_day      date NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    lines         integer NOT NULL DEFAULT 0,
    total_usd     numeric(38, 12) NOT NULL DEFAULT 0,
    error         text NOT NULL DEFAULT ''
);
CREATE INDEX billing_sync_runs_connection_idx ON billing_sync_runs (connection_id, started_at DESC);
