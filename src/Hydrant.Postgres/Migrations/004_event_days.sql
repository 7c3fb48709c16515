-- Events per day, kept by the loaders in the transaction that copies them: counting every event
-- (/v1/stats) and finding the days that need a report read one row per day, not the events.
CREATE TABLE event_days (
    day date PRIMARY KEY,
    rows bigint NOT NULL
);
INSERT INTO event_days (day, rows) SELECT day, count(*) FROM events GROUP BY day;
