using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Hydrant.Analytics;
using Hydrant.Detection.Alerts;
using Hydrant.Events;
using Hydrant.Keys;
using Hydrant.Reports;
using Npgsql;
using NpgsqlTypes;

namespace Hydrant.Postgres;

/// <summary>
/// The scale-out analytics store on PostgreSQL (Aurora-compatible), shared by every node. The
/// schema comes from the numbered migrations embedded in this assembly, applied under an advisory
/// lock so nodes starting together apply each once. Events are partitioned by UTC day; rows go in
/// by binary COPY inside the transaction that also moves this node's loader position, so a crash
/// between the two leaves neither. Nothing is asked of the server until the first call, and a
/// failed start is tried again on the next one: a node starts, and keeps its spool, while
/// PostgreSQL is down.
/// </summary>
public sealed class PostgresAnalyticsStore : IAnalyticsStore, IDisposable
{
    /// <summary>The role ad-hoc SQL runs as (created by migration 3): SELECT on the analytics tables only.</summary>
    public const string ReaderRole = "hydrant_reader";

    private const string CopyEvents =
        "COPY events (id, timestamp, day, event_type, source_ip, shard, product, service, category, raw) FROM STDIN (FORMAT BINARY)";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _node;
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly ConcurrentDictionary<DateOnly, bool> _partitions = new();
    private volatile bool _started;
    private int _schemaVersion;

    /// <param name="connectionString">An Npgsql connection string; the session time zone is set to UTC.</param>
    /// <param name="node">This node's name (<see cref="Hydrant.Storage.NodeIdentity"/>): its loader position and alerts are its own.</param>
    public PostgresAnalyticsStore(string connectionString, string node)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.Timezone = "UTC";
        _dataSource = builder.Build();
        _node = node;
    }

    public int SchemaVersion => _schemaVersion;

    public async ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("SELECT position FROM loader_checkpoint WHERE node = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = _node });
        return await command.ExecuteScalarAsync(cancellationToken) is long position ? position : 0;
    }

    public async ValueTask AppendAsync(IReadOnlyList<AnalyticsRow> rows, long checkpoint, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await EnsurePartitionsAsync(connection, rows.Select(r => DayOf(r.TimestampMs)), cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (rows.Count > 0)
        {
            await using var importer = await connection.BeginBinaryImportAsync(CopyEvents, cancellationToken);
            foreach (var row in rows)
            {
                var timestamp = DateTime.UnixEpoch.AddMilliseconds(row.TimestampMs);
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(row.Id, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(timestamp, NpgsqlDbType.TimestampTz, cancellationToken);
                await importer.WriteAsync(DateOnly.FromDateTime(timestamp), NpgsqlDbType.Date, cancellationToken);
                await importer.WriteAsync(row.EventType, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(row.SourceIP, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync((short)row.Shard, NpgsqlDbType.Smallint, cancellationToken);
                await WriteTextOrNullAsync(importer, row.Product, cancellationToken);
                await WriteTextOrNullAsync(importer, row.Service, cancellationToken);
                await WriteTextOrNullAsync(importer, row.Category, cancellationToken);
                await importer.WriteAsync(Encoding.UTF8.GetString(row.Json.Span), NpgsqlDbType.Jsonb, cancellationToken);
            }
            await importer.CompleteAsync(cancellationToken);
        }
        if (rows.Count > 0)
        {
            // Days in order, so loaders of several nodes lock the days' rows in one order.
            var days = rows.GroupBy(r => DayOf(r.TimestampMs)).OrderBy(g => g.Key).ToList();
            await using var counts = new NpgsqlCommand(
                "INSERT INTO event_days (day, rows) SELECT d, n FROM unnest($1::date[], $2::bigint[]) AS u(d, n) ORDER BY d " +
                "ON CONFLICT (day) DO UPDATE SET rows = event_days.rows + excluded.rows",
                connection, transaction);
            counts.Parameters.Add(new NpgsqlParameter { Value = days.Select(g => g.Key).ToArray() });
            counts.Parameters.Add(new NpgsqlParameter { Value = days.Select(g => (long)g.Count()).ToArray() });
            await counts.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var command = new NpgsqlCommand(
            "INSERT INTO loader_checkpoint (node, position) VALUES ($1, $2) ON CONFLICT (node) DO UPDATE SET position = excluded.position",
            connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = _node });
            command.Parameters.Add(new NpgsqlParameter { Value = checkpoint });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Class 22 (data exception: a value jsonb or a column cannot hold) and 54 (a value past a limit).</summary>
    public bool IsRefusedData(Exception failure) =>
        failure is PostgresException e && (e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("54", StringComparison.Ordinal));

    public async ValueTask<AnalyticsStatus> StatusAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand(
            "SELECT coalesce((SELECT sum(rows) FROM event_days), 0)::bigint, coalesce((SELECT position FROM loader_checkpoint WHERE node = $1), 0)");
        command.Parameters.Add(new NpgsqlParameter { Value = _node });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new AnalyticsStatus(reader.GetInt64(0), reader.GetInt64(1), _schemaVersion);
    }

    public ValueTask ReplaceAlertsAsync(DateOnly day, IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) =>
        ReplaceAlertRowsAsync("DELETE FROM alerts WHERE day = $1 AND node = $2", day, alerts, cancellationToken);

    public ValueTask UpsertAlertsAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) =>
        ReplaceAlertRowsAsync("DELETE FROM alerts WHERE id = ANY($1) AND node = $2", alerts.Select(a => a.Id).ToArray(), alerts, cancellationToken);

    /// <summary>In one transaction: this node's rows that <paramref name="delete"/> selects (by <paramref name="selector"/> and the node) go, the alerts' rows come.</summary>
    private async ValueTask ReplaceAlertRowsAsync(string delete, object selector, IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(delete, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = selector });
            command.Parameters.Add(new NpgsqlParameter { Value = _node });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await CopyAlertsAsync(connection, alerts, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The alerts as this node's rows, each on the UTC day of its first event.</summary>
    private async Task CopyAlertsAsync(NpgsqlConnection connection, IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            "COPY alerts (id, node, day, rule_id, title, level, group_key, count, first_seen, last_seen) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var alert in alerts)
        {
            var firstSeen = DateTime.UnixEpoch.AddMilliseconds(Timestamps.ParseCanonical(alert.FirstSeen));
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(alert.Id, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(_node, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(DateOnly.FromDateTime(firstSeen), NpgsqlDbType.Date, cancellationToken);
            await importer.WriteAsync(alert.RuleId, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(alert.Title, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(alert.Level, NpgsqlDbType.Text, cancellationToken);
            await WriteTextOrNullAsync(importer, alert.GroupKey, cancellationToken);
            await importer.WriteAsync((long)alert.Count, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(firstSeen, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(DateTime.UnixEpoch.AddMilliseconds(Timestamps.ParseCanonical(alert.LastSeen)), NpgsqlDbType.TimestampTz, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    public async ValueTask<DailyReport> AggregateDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for every figure while loading goes on.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var byType = await CountsAsync(connection, "SELECT event_type, count(*) AS n FROM events WHERE day = $1 GROUP BY event_type ORDER BY n DESC, event_type COLLATE \"C\"", day, cancellationToken);
        var byHour = new long[24];
        foreach (var (hour, count) in await PairsAsync<int>(connection, "SELECT extract(hour FROM timestamp)::int, count(*) FROM events WHERE day = $1 GROUP BY 1", day, cancellationToken))
        {
            byHour[hour] = count;
        }
        var shards = new long[SourceShard.MainShards];
        foreach (var (shard, count) in await PairsAsync<short>(connection, "SELECT shard, count(*) FROM events WHERE day = $1 GROUP BY 1", day, cancellationToken))
        {
            shards[shard] = count;
        }
        var topSources = (await PairsAsync<string>(connection,
                $"SELECT source_ip, count(*) AS n FROM events WHERE day = $1 AND source_ip <> '' GROUP BY source_ip ORDER BY n DESC, source_ip COLLATE \"C\" LIMIT {DailyReport.TopSourceCount}",
                day, cancellationToken))
            .Select(p => new SourceCount(p.Key, p.Count))
            .ToList();
        var newSources = (await PairsAsync<string>(connection,
                $"""
                SELECT source_ip, 0::bigint FROM (
                    SELECT source_ip FROM events WHERE day = $1 AND source_ip <> ''
                    EXCEPT
                    SELECT source_ip FROM events WHERE day >= $1 - {DailyReport.NewSourceLookbackDays} AND day < $1) fresh
                ORDER BY source_ip COLLATE "C"
                """,
                day, cancellationToken))
            .Select(p => p.Key)
            .ToList();
        var byRule = await CountsAsync(connection, "SELECT rule_id, count(*) AS n FROM alerts WHERE day = $1 GROUP BY rule_id ORDER BY n DESC, rule_id COLLATE \"C\"", day, cancellationToken);
        var byLevel = await CountsAsync(connection, "SELECT level, count(*) AS n FROM alerts WHERE day = $1 GROUP BY level ORDER BY n DESC, level COLLATE \"C\"", day, cancellationToken);
        var enrichment = await EnrichmentOfAsync(connection, day, cancellationToken);
        await transaction.RollbackAsync(cancellationToken);
        return new DailyReport(
            DailyReport.DateText(day), byType.Values.Sum(), byType, byHour, topSources, newSources,
            new AlertFigures(byRule.Values.Sum(), byRule, byLevel) { RuleTitles = await TitlesAsync(connection, day, cancellationToken) }, DailyReport.HeatOf(shards))
        {
            Enrichment = enrichment,
        };
    }

    /// <summary>What the enrichment of the day's sourceIPs says, read from each event's JSON (only enriched events have the object).</summary>
    private static async Task<EnrichmentFigures> EnrichmentOfAsync(NpgsqlConnection connection, DateOnly day, CancellationToken cancellationToken)
    {
        var countries = await RowsAsync(connection,
            $"""
            SELECT code, name, n FROM (
                SELECT raw->'enrichment'->'geo'->>'country_iso_code' AS code, max(raw->'enrichment'->'geo'->>'country_name') AS name, count(*) AS n
                FROM events WHERE day = $1 AND raw->'enrichment'->'geo' ? 'country_iso_code' GROUP BY 1) countries
            ORDER BY n DESC, code COLLATE "C" LIMIT {EnrichmentFigures.TopCount}
            """,
            day, r => new CountryCount(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2)), cancellationToken);
        var networks = await RowsAsync(connection,
            $"""
            SELECT (raw->'enrichment'->'as'->>'number')::bigint AS number, max(raw->'enrichment'->'as'->>'organization'), count(*) AS n
            FROM events WHERE day = $1 AND jsonb_typeof(raw->'enrichment'->'as'->'number') = 'number'
            GROUP BY 1 ORDER BY n DESC, number LIMIT {EnrichmentFigures.TopCount}
            """,
            day, r => new NetworkCount(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2)), cancellationToken);
        var matches = await RowsAsync(connection,
            """
            SELECT list, count(*) AS n, count(DISTINCT source_ip)
            FROM events, jsonb_array_elements_text(raw->'enrichment'->'intel') AS list
            WHERE day = $1 AND jsonb_typeof(raw->'enrichment'->'intel') = 'array'
            GROUP BY list ORDER BY n DESC, list COLLATE "C"
            """,
            day, r => new IntelMatch(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken);
        return new EnrichmentFigures(countries, networks, matches);
    }

    public async ValueTask SaveReportAsync(DailyReport report, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO daily_reports (day, built_at, report) VALUES ($1, now(), $2) ON CONFLICT (day) DO UPDATE SET built_at = excluded.built_at, report = excluded.report");
        command.Parameters.Add(new NpgsqlParameter { Value = report.Day });
        command.Parameters.Add(new NpgsqlParameter { Value = report.ToJson(), NpgsqlDbType = NpgsqlDbType.Json });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Each day is a partition: dropping it is instant, whatever it holds.</summary>
    public async ValueTask<int> DropDaysBeforeAsync(DateOnly before, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        var dropped = 0;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        foreach (var day in (await PartitionDaysAsync(cancellationToken)).Where(d => d < before))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext('hydrant.partitions'))", cancellationToken);
            await ExecuteAsync(connection, transaction, $"DROP TABLE IF EXISTS {PartitionName(day)}", cancellationToken);
            await using (var rows = new NpgsqlCommand("WITH dropped_alerts AS (DELETE FROM alerts WHERE day = $1) DELETE FROM event_days WHERE day = $1", connection, transaction))
            {
                rows.Parameters.Add(new NpgsqlParameter { Value = day });
                await rows.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            _partitions.TryRemove(day, out _);
            dropped++;
        }
        return dropped;
    }

    public async ValueTask<DailyReport?> LoadReportAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("SELECT report::text FROM daily_reports WHERE day = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = day });
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? DailyReport.FromJson(json) : null;
    }

    public async ValueTask<IReadOnlyList<StoredReport>> ListReportsAsync(int limit, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand(
            "SELECT day, built_at, (report->>'totalEvents')::bigint, (report->'alerts'->>'total')::bigint FROM daily_reports ORDER BY day DESC LIMIT $1");
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var reports = new List<StoredReport>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            reports.Add(StoredReport.Of(reader.GetFieldValue<DateOnly>(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt64(2), reader.GetInt64(3)));
        }
        return reports;
    }

    public async ValueTask<IReadOnlyList<DateOnly>> DaysToReportAsync(DateOnly before, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand(
            "SELECT d.day FROM event_days d LEFT JOIN daily_reports r ON r.day = d.day " +
            "WHERE d.day < $1 AND d.rows > 0 AND (r.day IS NULL OR (r.report->>'totalEvents')::bigint < d.rows) ORDER BY d.day");
        command.Parameters.Add(new NpgsqlParameter { Value = before });
        var days = new List<DateOnly>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            days.Add(reader.GetFieldValue<DateOnly>(0));
        }
        return days;
    }

    public async ValueTask<QueryAnswer> QueryAsync(AnalyticsQuery query, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // Whatever the query might try, it runs read-only, as a role that may only read the
        // analytics tables, and the transaction is never kept.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var limits = new NpgsqlCommand(
            $"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = {(long)Math.Ceiling(query.Timeout.TotalMilliseconds)}; SET LOCAL ROLE {ReaderRole}",
            connection, transaction))
        {
            await limits.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var command = new NpgsqlCommand(query.Sql, connection, transaction);
        // One positional parameter turns off Npgsql's own splitting at semicolons, so the server
        // gets the text as one statement and refuses more than one itself.
        command.Parameters.Add(new NpgsqlParameter { Value = 0, NpgsqlDbType = NpgsqlDbType.Integer });
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await QueryAnswer.ReadAsync(reader, query, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled)
        {
            throw new AnalyticsQueryException(QueryFailure.TimedOut, $"the query ran past its time limit of {query.Timeout.TotalSeconds:0.#} s and was stopped", e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction)
        {
            throw new AnalyticsQueryException(QueryFailure.Refused, "only read-only queries (SELECT or WITH) are allowed", e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.SyntaxError && e.MessageText.Contains("multiple commands", StringComparison.Ordinal))
        {
            throw new AnalyticsQueryException(QueryFailure.Refused, "only one statement is allowed", e);
        }
        catch (PostgresException e)
        {
            throw new AnalyticsQueryException(QueryFailure.Failed, e.MessageText, e);
        }
    }

    public void Dispose()
    {
        _dataSource.Dispose();
        _startLock.Dispose();
    }

    /// <summary>Applies the migrations (once, whichever node comes first) and creates the partitions around today.</summary>
    private async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            return;
        }
        await _startLock.WaitAsync(cancellationToken);
        try
        {
            if (_started)
            {
                return;
            }
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            _schemaVersion = await MigrateAsync(connection, cancellationToken);
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            await EnsurePartitionsAsync(connection, [today.AddDays(-1), today, today.AddDays(1), today.AddDays(2)], cancellationToken);
            _started = true;
        }
        finally
        {
            _startLock.Release();
        }
    }

    private static async Task<int> MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext('hydrant.migrations'))", cancellationToken);
        await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", cancellationToken);
        await using (var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection, transaction))
        {
            var current = (int)(await read.ExecuteScalarAsync(cancellationToken))!;
            foreach (var (version, sql) in EmbeddedMigrations.Read(typeof(PostgresAnalyticsStore).Assembly, "Hydrant.Postgres.Migrations.").Where(m => m.Version > current))
            {
                await ExecuteAsync(connection, transaction, sql, cancellationToken);
                await ExecuteAsync(connection, transaction, $"INSERT INTO schema_version VALUES ({version})", cancellationToken);
                current = version;
            }
            await transaction.CommitAsync(cancellationToken);
            return current;
        }
    }

    /// <summary>Creates the day partitions not known to exist yet, each in its own short transaction under a lock all nodes share.</summary>
    private async Task EnsurePartitionsAsync(NpgsqlConnection connection, IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        foreach (var day in days.Distinct())
        {
            if (_partitions.ContainsKey(day))
            {
                continue;
            }
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext('hydrant.partitions'))", cancellationToken);
            await ExecuteAsync(connection, transaction,
                $"CREATE TABLE IF NOT EXISTS {PartitionName(day)} PARTITION OF events FOR VALUES FROM ('{DailyReport.DateText(day)}') TO ('{DailyReport.DateText(day.AddDays(1))}')",
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            _partitions[day] = true;
        }
    }

    private async Task<List<DateOnly>> PartitionDaysAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var days = new List<DateOnly>();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (DateOnly.TryParseExact(reader.GetString(0)["events_".Length..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                days.Add(day);
            }
        }
        days.Sort();
        return days;
    }

    private static string PartitionName(DateOnly day) => "events_" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static DateOnly DayOf(long timestampMs) => DateOnly.FromDateTime(DateTime.UnixEpoch.AddMilliseconds(timestampMs));

    private static Task WriteTextOrNullAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    /// <summary>Every row of a query of one day ($1), each made by <paramref name="read"/>, in the query's order.</summary>
    private static async Task<List<T>> RowsAsync<T>(NpgsqlConnection connection, string sql, DateOnly day, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = day });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    private static async Task<Dictionary<string, string>> TitlesAsync(NpgsqlConnection connection, DateOnly day, CancellationToken cancellationToken) =>
        (await RowsAsync(connection, "SELECT rule_id, max(title) FROM alerts WHERE day = $1 GROUP BY rule_id", day,
            r => (Id: r.GetString(0), Title: r.IsDBNull(1) ? string.Empty : r.GetString(1)), cancellationToken)).ToDictionary(t => t.Id, t => t.Title, StringComparer.Ordinal);

    private static Task<List<(TKey Key, long Count)>> PairsAsync<TKey>(NpgsqlConnection connection, string sql, DateOnly day, CancellationToken cancellationToken) =>
        RowsAsync(connection, sql, day, r => (r.GetFieldValue<TKey>(0), r.GetInt64(1)), cancellationToken);

    /// <summary>Name-to-count pairs in the query's order (a Dictionary keeps insertion order while nothing is removed).</summary>
    private static async Task<Dictionary<string, long>> CountsAsync(NpgsqlConnection connection, string sql, DateOnly day, CancellationToken cancellationToken) =>
        (await PairsAsync<string>(connection, sql, day, cancellationToken)).ToDictionary(p => p.Key, p => p.Count);

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
