-- Tenant schema, version 1. Applied to every tenant schema with search_path set to it,
-- so names are unqualified. Grants to the tenant role are applied by the provisioner.
CREATE TABLE projects (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL,
    monthly_budget_usd numeric(20, 6),
    allowed_providers  text[] NOT NULL DEFAULT ARRAY[]::text[],
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    archived_at        timestamptz
);
CREATE UNIQUE INDEX projects_live_name_idx ON projects (lower(name)) WHERE archived_at IS NULL;

CREATE TABLE provider_keys (
    id                uuid PRIMARY KEY,
    project_id        uuid NOT NULL REFERENCES projects(id),
    provider          text NOT NULL CHECK (provider IN ('openai', 'azure_openai', 'anthropic', 'gemini')),
    name              text NOT NULL,
    sealed_secret     bytea NOT NULL,
    last_four         text NOT NULL,
    azure_endpoint    text NOT NULL DEFAULT '',
    azure_deployment  text NOT NULL DEFAULT '',
    azure_api_version text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    rotated_at        timestamptz,
    UNIQUE (project_id, provider, name)
);

CREATE TABLE audit_events (
    seq          bigint PRIMARY KEY,
    occurred_at  timestamptz NOT NULL,
    actor        text NOT NULL,
    action       text NOT NULL,
    target       text NOT NULL,
    request_id   text NOT NULL,
    outcome      text NOT NULL,
    detail       text NOT NULL,
    prev_hash    text NOT NULL,
    hash         text NOT NULL
);
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);

CREATE FUNCTION reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only';
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION reject_audit_change();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_audit_change();
