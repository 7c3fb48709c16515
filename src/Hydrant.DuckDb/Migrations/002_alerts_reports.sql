-- Alerts, copied from the alert store when a day's report is built; day is the UTC day of first_seen.
CREATE TABLE alerts (
    id VARCHAR NOT NULL,
    day DATE NOT NULL,
    rule_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    group_key VARCHAR,
    count BIGINT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL
);

-- One stored report per UTC day (CONTRACT "Shapes", as JSON).
CREATE TABLE daily_reports (
    day DATE NOT NULL,
    built_at TIMESTAMP NOT NULL,
    report JSON NOT NULL
);
