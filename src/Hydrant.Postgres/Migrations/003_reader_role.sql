-- Ad-hoc SQL runs as this role, in a read-only transaction: it can read the analytics tables and
-- nothing else (no server files, no other schema's tables). Roles belong to the whole server, so
-- several databases on one server share it; a concurrent creation by another database is fine.
DO $$
BEGIN
    CREATE ROLE hydrant_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
GRANT USAGE ON SCHEMA public TO hydrant_reader;
GRANT SELECT ON events, alerts, daily_reports TO hydrant_reader;
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'hydrant_reader', 'MEMBER') THEN
        EXECUTE format('GRANT hydrant_reader TO %I', current_user);
    END IF;
END
$$;
