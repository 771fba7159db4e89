-- Control schema: tenants, their users, sessions, API keys, operator credentials and the
-- operator audit chain. Applied by the migrator inside one transaction.
CREATE SCHEMA IF NOT EXISTS control;

CREATE TABLE control.tenants (
    id               uuid PRIMARY KEY,
    slug             text NOT NULL UNIQUE,
    display_name     text NOT NULL,
    schema_name      text NOT NULL UNIQUE,
    role_name        text NOT NULL UNIQUE,
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    suspended_reason text NOT NULL DEFAULT '',
    wrapped_data_key bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- A user is a membership: one email in one tenant with one role.
CREATE TABLE control.users (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES control.tenants(id) ON DELETE CASCADE,
    email         text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
);

CREATE TABLE control.sessions (
    token_hash  text PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES control.users(id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES control.tenants(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON control.sessions (user_id);

CREATE TABLE control.api_keys (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES control.tenants(id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,
    secret_hash  text NOT NULL UNIQUE,
    role         text NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
    project_id   uuid,
    scopes       text[] NOT NULL DEFAULT ARRAY['control'],
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_tenant_idx ON control.api_keys (tenant_id, created_at);

CREATE TABLE control.operator_tokens (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE control.audit_events (
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
CREATE INDEX audit_events_time_idx ON control.audit_events (occurred_at);

-- Audit rows are append-only for everyone, the owner included.
CREATE FUNCTION control.reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only';
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON control.audit_events
    FOR EACH ROW EXECUTE FUNCTION control.reject_audit_change();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON control.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION control.reject_audit_change();
