-- Events in columns for reports and ad-hoc SQL; the event as stored in raw (canonical JSON).
CREATE TABLE events (
    id VARCHAR NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    day DATE NOT NULL,
    event_type VARCHAR NOT NULL,
    source_ip VARCHAR NOT NULL,
    shard SMALLINT NOT NULL,
    product VARCHAR,
    service VARCHAR,
    category VARCHAR,
    raw JSON NOT NULL
);

-- The loader's position, moved in the same transaction as the rows it reflects.
CREATE TABLE loader_checkpoint (position BIGINT NOT NULL);
INSERT INTO loader_checkpoint VALUES (0);
