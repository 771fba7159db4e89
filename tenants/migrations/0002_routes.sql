-- Tenant schema, version 2: proxy routes, the health the proxy records per upstream
-- target, and the tenant's price overrides. Unqualified names; grants by the provisioner.

-- A model alias of a project → an ordered list of deployments (route_deployments).
CREATE TABLE routes (
    id         uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id),
    alias      text NOT NULL CHECK (length(alias) BETWEEN 1 AND 200),
    strategy   text NOT NULL CHECK (strategy IN ('weighted', 'least_latency')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, alias)
);

-- A provider key in use by a route cannot be deleted (RESTRICT): the route must change first.
CREATE TABLE route_deployments (
    id              uuid PRIMARY KEY,
    route_id        uuid NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
    position        integer NOT NULL CHECK (position >= 0),
    provider        text NOT NULL CHECK (provider IN ('openai', 'azure_openai', 'anthropic', 'gemini')),
    model           text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    provider_key_id uuid NOT NULL REFERENCES provider_keys(id) ON DELETE RESTRICT,
    weight          integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
    priority        integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 1000),
    timeout_ms      integer CHECK (timeout_ms IS NULL OR timeout_ms > 0),
    UNIQUE (route_id, position),
    UNIQUE (route_id, provider, model, provider_key_id)
);
CREATE INDEX route_deployments_key_idx ON route_deployments (provider_key_id);

-- Health of an upstream target (provider key + model), written by the proxy and shared by
-- every route that sends traffic there. No row means healthy, nothing recorded yet.
CREATE TABLE deployment_health (
    provider_key_id      uuid NOT NULL REFERENCES provider_keys(id) ON DELETE CASCADE,
    model                text NOT NULL,
    state                text NOT NULL DEFAULT 'healthy' CHECK (state IN ('healthy', 'cooling_down')),
    cooldown_until       timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_error_class     text NOT NULL DEFAULT '',
    last_latency_ms      integer CHECK (last_latency_ms IS NULL OR last_latency_ms >= 0),
    p50_latency_ms       integer CHECK (p50_latency_ms IS NULL OR p50_latency_ms >= 0),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_key_id, model),
    CHECK (state <> 'cooling_down' OR cooldown_until IS NOT NULL)
);

-- The tenant's prices, USD per one million tokens, from a UTC day on. A NULL price keeps
-- the catalog's price for that token class.
CREATE TABLE price_overrides (
    id                          uuid PRIMARY KEY,
    provider                    text NOT NULL CHECK (provider IN ('openai', 'azure_openai', 'anthropic', 'gemini')),
    model                       text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    effective_from              date NOT NULL,
    input_usd_per_mtok          numeric CHECK (input_usd_per_mtok >= 0),
    cached_input_usd_per_mtok   numeric CHECK (cached_input_usd_per_mtok >= 0),
    cache_write_5m_usd_per_mtok numeric CHECK (cache_write_5m_usd_per_mtok >= 0),
    cache_write_1h_usd_per_mtok numeric CHECK (cache_write_1h_usd_per_mtok >= 0),
    output_usd_per_mtok         numeric CHECK (output_usd_per_mtok >= 0),
    reasoning_usd_per_mtok      numeric CHECK (reasoning_usd_per_mtok >= 0),
    set_by                      text NOT NULL,
    set_at                      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, model, effective_from),
    CHECK (num_nonnulls(input_usd_per_mtok, cached_input_usd_per_mtok, cache_write_5m_usd_per_mtok,
                        cache_write_1h_usd_per_mtok, output_usd_per_mtok, reasoning_usd_per_mtok) > 0)
);
