-- Tenant schema, version 11: cost by end user. The proxy records who a call was for (the
-- `x-llmlab-user` header, else OpenAI's `user` / `safety_identifier`, else Anthropic's
-- `metadata.user_id`; "" when none), and a rollup per UTC day, project and end user is kept
-- current in the same statement that inserts the events (like usage_rollup_hourly), so
-- AnalyticsService answers "cost by user" without scanning events. It is kept per day and
-- without provider, model, key or route on purpose: end users can number in the thousands,
-- and every further key multiplies its rows (per hour and model it would be nearly as large
-- as the events). A user-level query therefore combines only with project and day.
ALTER TABLE usage_events ADD COLUMN end_user text NOT NULL DEFAULT '' CHECK (length(end_user) <= 128);

CREATE TABLE usage_user_daily (
    day                   timestamptz NOT NULL,
    project_id            uuid NOT NULL,
    end_user              text NOT NULL,
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
    PRIMARY KEY (day, project_id, end_user)
);
CREATE INDEX usage_user_daily_user_day_idx ON usage_user_daily (end_user, day);

-- Events recorded before this version had no end user: they roll up under "".
INSERT INTO usage_user_daily (day, project_id, end_user, requests, errors, unpriced_requests, input_tokens,
    cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd)
SELECT date_trunc('day', hour, 'UTC'), project_id, '', sum(requests), sum(errors), sum(unpriced_requests), sum(input_tokens),
       sum(cached_input_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), sum(output_tokens),
       sum(reasoning_tokens), sum(cost_usd)
FROM usage_hourly GROUP BY 1, 2;
