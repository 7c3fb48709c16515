-- Events in columns for reports and ad-hoc SQL; the event as stored in raw (canonical JSON).
-- One partition per UTC day: created ahead by the store, dropped whole by retention.
CREATE TABLE events (
    id text NOT NULL,
    timestamp timestamptz NOT NULL,
    day date NOT NULL,
    event_type text NOT NULL,
    source_ip text NOT NULL,
    shard smallint NOT NULL,
    product text,
    service text,
    category text,
    raw jsonb NOT NULL
) PARTITION BY RANGE (day);

-- Each node loads its own spool: one position per node, moved in the same transaction as its rows.
CREATE TABLE loader_checkpoint (
    node text PRIMARY KEY,
    position bigint NOT NULL
);
