-- Alerts, copied from each node's alert store when a day's report is built; day is the UTC day of first_seen.
CREATE TABLE alerts (
    id text NOT NULL,
    node text NOT NULL,
    day date NOT NULL,
    rule_id text NOT NULL,
    title text NOT NULL,
    level text NOT NULL,
    group_key text,
    count bigint NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);
CREATE INDEX alerts_day ON alerts (day, node);

-- One stored report per UTC day (CONTRACT "Shapes", as JSON; json, not jsonb, keeps its keys in their order).
CREATE TABLE daily_reports (
    day date PRIMARY KEY,
    built_at timestamptz NOT NULL,
    report json NOT NULL
);
