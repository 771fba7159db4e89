-- Control schema, version 2: per-key limits enforced by the proxy. All optional (NULL =
-- no limit). The budget is exact decimal USD per calendar month (UTC); the rate limits
-- are requests and tokens per minute.
ALTER TABLE control.api_keys
    ADD COLUMN monthly_budget_usd numeric(20, 6) CHECK (monthly_budget_usd IS NULL OR monthly_budget_usd >= 0),
    ADD COLUMN rpm_limit integer CHECK (rpm_limit IS NULL OR rpm_limit > 0),
    ADD COLUMN tpm_limit integer CHECK (tpm_limit IS NULL OR tpm_limit > 0);
