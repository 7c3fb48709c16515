using System.Globalization;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Hydrant.Analytics;
using Hydrant.Detection.Alerts;
using Hydrant.Events;
using Hydrant.Keys;
using Hydrant.Reports;
using Hydrant.Storage;
using Hydrant.Threading;

namespace Hydrant.DuckDb;

/// <summary>
/// The embedded analytics store: one DuckDB file in the data folder, schema from the numbered
/// migrations embedded in this assembly (the version applied is recorded in schema_version).
/// Rows go in through DuckDB's Appender inside the transaction that also moves the loader's
/// checkpoint, so a crash between the two leaves neither. Writes share one connection, used only
/// by one low-priority thread (<see cref="LowPriorityWorker"/>), which also puts them in order;
/// reads, reports and ad-hoc queries each get their own connection, so a long query never holds
/// up loading and loading never holds up /v1/stats. DuckDB's memory is capped so loading never
/// grows the process without bound, and SQL cannot reach the file system.
/// </summary>
public sealed class DuckDbAnalyticsStore : IAnalyticsStore, IDisposable
{
    private readonly string _connectionString;
    private readonly DuckDBConnection _writer;
    private readonly LowPriorityWorker _worker = new("analytics-writer");

    public DuckDbAnalyticsStore(StoreOptions store, int memoryLimitMB)
    {
        Directory.CreateDirectory(store.DataPath);
        _connectionString = $"Data Source={Path.Combine(store.DataPath, "analytics.duckdb")}";
        _writer = new DuckDBConnection(_connectionString);
        _writer.Open();
        Execute(_writer, $"SET memory_limit = '{memoryLimitMB}MB'");
        // DuckDB checkpoints when its WAL passes this, recompressing the table's last, partly filled
        // row group each time: at the default 16 MB that is twice per loader batch of 1 KB events,
        // and loading 1M of them fell from 35k to 15k rows/s as the file grew. At 256 MB it held
        // 42k rows/s and the file was 28 % smaller (bigger runs compress better).
        Execute(_writer, "SET checkpoint_threshold = '256MB'");
        // All DuckDB work on the calling thread, so loading stays on the nice-19 writer thread and
        // yields to ingest (measured: 28-29k -> 33-37k events/s ingest while loading; a 10M-event
        // report takes 0.88 s instead of 0.60 s).
        Execute(_writer, "SET threads = 1");
        SchemaVersion = Migrate();
        // Once off it cannot be turned back on: ad-hoc SQL can neither read nor write files.
        Execute(_writer, "SET enable_external_access = false");
    }

    public int SchemaVersion { get; }

    public ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        return ValueTask.FromResult(Scalar(connection, "SELECT position FROM loader_checkpoint"));
    }

    public async ValueTask AppendAsync(IReadOnlyList<AnalyticsRow> rows, long checkpoint, CancellationToken cancellationToken) =>
        await _worker.RunAsync(() =>
        {
            using var transaction = _writer.BeginTransaction();
            using (var appender = _writer.CreateAppender("events"))
            {
                foreach (var row in rows)
                {
                    var timestamp = DateTime.UnixEpoch.AddMilliseconds(row.TimestampMs);
                    appender.CreateRow()
                        .AppendValue(row.Id)
                        .AppendValue(timestamp)
                        .AppendValue(DateOnly.FromDateTime(timestamp))
                        .AppendValue(row.EventType)
                        .AppendValue(row.SourceIP)
                        .AppendValue((short)row.Shard)
                        .AppendValue(row.Product)
                        .AppendValue(row.Service)
                        .AppendValue(row.Category)
                        .AppendValue(Encoding.UTF8.GetString(row.Json.Span))
                        .EndRow();
                }
            }
            using (var command = Command(_writer, "UPDATE loader_checkpoint SET position = $position", ("position", checkpoint)))
            {
                command.ExecuteNonQuery();
            }
            transaction.Commit();
            return true;
        });

    public bool IsRefusedData(Exception failure) =>
        failure is DuckDBException { ErrorType: DuckDBErrorType.Conversion or DuckDBErrorType.InvalidInput or DuckDBErrorType.OutOfRange or DuckDBErrorType.MismatchType or DuckDBErrorType.Constraint };

    public ValueTask<AnalyticsStatus> StatusAsync(CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        return ValueTask.FromResult(new AnalyticsStatus(
            Scalar(connection, "SELECT count(*) FROM events"), Scalar(connection, "SELECT position FROM loader_checkpoint"), SchemaVersion));
    }

    public ValueTask ReplaceAlertsAsync(DateOnly day, IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) =>
        ReplaceAlertRowsAsync("DELETE FROM alerts WHERE day = CAST($key AS DATE)", [DailyReport.DateText(day)], alerts);

    public ValueTask UpsertAlertsAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) =>
        ReplaceAlertRowsAsync("DELETE FROM alerts WHERE id = $key", [.. alerts.Select(a => a.Id)], alerts);

    /// <summary>In one transaction: the rows <paramref name="delete"/> selects for each of <paramref name="keys"/> go, the alerts' rows come.</summary>
    private async ValueTask ReplaceAlertRowsAsync(string delete, IReadOnlyList<string> keys, IReadOnlyList<Alert> alerts) =>
        await _worker.RunAsync(() =>
        {
            using var transaction = _writer.BeginTransaction();
            using (var command = Command(_writer, delete, ("key", string.Empty)))
            {
                foreach (var key in keys)
                {
                    command.Parameters[0].Value = key;
                    command.ExecuteNonQuery();
                }
            }
            AppendAlerts(alerts);
            transaction.Commit();
            return true;
        });

    /// <summary>The alerts as rows, each on the UTC day of its first event.</summary>
    private void AppendAlerts(IReadOnlyList<Alert> alerts)
    {
        using var appender = _writer.CreateAppender("alerts");
        foreach (var alert in alerts)
        {
            var firstSeen = DateTime.UnixEpoch.AddMilliseconds(Timestamps.ParseCanonical(alert.FirstSeen));
            appender.CreateRow()
                .AppendValue(alert.Id)
                .AppendValue(DateOnly.FromDateTime(firstSeen))
                .AppendValue(alert.RuleId)
                .AppendValue(alert.Title)
                .AppendValue(alert.Level)
                .AppendValue(alert.GroupKey)
                .AppendValue(alert.Count)
                .AppendValue(firstSeen)
                .AppendValue(DateTime.UnixEpoch.AddMilliseconds(Timestamps.ParseCanonical(alert.LastSeen)))
                .EndRow();
        }
    }

    public ValueTask<DailyReport> AggregateDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        // One transaction, never kept: every figure comes from the same snapshot while loading goes
        // on, and the temporary table goes with it.
        using var transaction = connection.BeginTransaction();
        var date = DailyReport.DateText(day);
        (string, object) dayParameter = ("day", date);

        var byType = Counts(connection, "SELECT event_type, count(*) AS n FROM events WHERE day = CAST($day AS DATE) GROUP BY event_type ORDER BY n DESC, event_type", dayParameter);
        var byHour = new long[24];
        foreach (var (hour, count) in Pairs<long>(connection, "SELECT hour(timestamp)::BIGINT, count(*) FROM events WHERE day = CAST($day AS DATE) GROUP BY 1", dayParameter))
        {
            byHour[hour] = count;
        }
        var shards = new long[SourceShard.MainShards];
        foreach (var (shard, count) in Pairs<long>(connection, "SELECT shard::BIGINT, count(*) FROM events WHERE day = CAST($day AS DATE) GROUP BY 1", dayParameter))
        {
            shards[shard] = count;
        }
        // The day's sources are counted once, then ranked and compared with the week before
        // (measured on 10M events: 0.5 s, against 3 s for a NOT EXISTS over the events).
        using (var daySources = Command(connection,
            "CREATE TEMP TABLE day_sources AS SELECT source_ip, count(*) AS n FROM events WHERE day = CAST($day AS DATE) AND source_ip <> '' GROUP BY source_ip",
            dayParameter))
        {
            daySources.ExecuteNonQuery();
        }
        var topSources = Pairs<string>(connection, $"SELECT source_ip, n FROM day_sources ORDER BY n DESC, source_ip LIMIT {DailyReport.TopSourceCount}")
            .Select(p => new SourceCount(p.Key, p.Count))
            .ToList();
        var newSources = Strings(connection,
            $"""
            SELECT source_ip FROM day_sources
            ANTI JOIN (SELECT DISTINCT source_ip FROM events
                       WHERE day >= CAST($day AS DATE) - {DailyReport.NewSourceLookbackDays} AND day < CAST($day AS DATE)) before USING (source_ip)
            ORDER BY source_ip
            """,
            dayParameter);
        var byRule = Counts(connection, "SELECT rule_id, count(*) AS n FROM alerts WHERE day = CAST($day AS DATE) GROUP BY rule_id ORDER BY n DESC, rule_id", dayParameter);
        var byLevel = Counts(connection, "SELECT level, count(*) AS n FROM alerts WHERE day = CAST($day AS DATE) GROUP BY level ORDER BY n DESC, level", dayParameter);
        var enrichment = EnrichmentOf(connection, dayParameter);
        transaction.Rollback();
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(new DailyReport(
            date, byType.Values.Sum(), byType, byHour, topSources, newSources,
            new AlertFigures(byRule.Values.Sum(), byRule, byLevel) { RuleTitles = Titles(connection, dayParameter) }, DailyReport.HeatOf(shards))
        {
            Enrichment = enrichment,
        });
    }

    /// <summary>What the enrichment of the day's sourceIPs says, read from each event's JSON (only enriched events have the object).</summary>
    private static EnrichmentFigures EnrichmentOf(DuckDBConnection connection, (string, object) day)
    {
        var countries = Rows(connection,
            $"""
            SELECT code, any_value(name), count(*) AS n FROM (
                SELECT raw->>'$.enrichment.geo.country_iso_code' AS code, raw->>'$.enrichment.geo.country_name' AS name
                FROM events WHERE day = CAST($day AS DATE)) WHERE code IS NOT NULL
            GROUP BY code ORDER BY n DESC, code LIMIT {EnrichmentFigures.TopCount}
            """,
            r => new CountryCount(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2)), day);
        var networks = Rows(connection,
            $"""
            SELECT number, any_value(organization), count(*) AS n FROM (
                SELECT TRY_CAST(raw->>'$.enrichment.as.number' AS BIGINT) AS number, raw->>'$.enrichment.as.organization' AS organization
                FROM events WHERE day = CAST($day AS DATE)) WHERE number IS NOT NULL
            GROUP BY number ORDER BY n DESC, number LIMIT {EnrichmentFigures.TopCount}
            """,
            r => new NetworkCount(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2)), day);
        var matches = Rows(connection,
            """
            SELECT list, count(*) AS n, count(DISTINCT source_ip) FROM (
                SELECT unnest(json_extract_string(raw, '$.enrichment.intel[*]')) AS list, source_ip
                FROM events WHERE day = CAST($day AS DATE) AND json_type(raw, '$.enrichment.intel') = 'ARRAY')
            WHERE list IS NOT NULL
            GROUP BY list ORDER BY n DESC, list
            """,
            r => new IntelMatch(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), day);
        return new EnrichmentFigures(countries, networks, matches);
    }

    public async ValueTask SaveReportAsync(DailyReport report, CancellationToken cancellationToken) =>
        await _worker.RunAsync(() =>
        {
            using var transaction = _writer.BeginTransaction();
            using (var delete = Command(_writer, "DELETE FROM daily_reports WHERE day = CAST($day AS DATE)", ("day", report.Date)))
            {
                delete.ExecuteNonQuery();
            }
            using (var insert = Command(_writer, "INSERT INTO daily_reports VALUES (CAST($day AS DATE), $builtAt, $report)",
                ("day", report.Date), ("builtAt", DateTime.UtcNow), ("report", report.ToJson())))
            {
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
            return true;
        });

    public async ValueTask<int> DropDaysBeforeAsync(DateOnly before, CancellationToken cancellationToken) =>
        await _worker.RunAsync(() =>
        {
            using var transaction = _writer.BeginTransaction();
            using var days = Command(_writer, "SELECT count(DISTINCT day) FROM events WHERE day < CAST($before AS DATE)", ("before", DailyReport.DateText(before)));
            var dropped = Convert.ToInt32(days.ExecuteScalar(), CultureInfo.InvariantCulture);
            using (var events = Command(_writer, "DELETE FROM events WHERE day < CAST($before AS DATE)", ("before", DailyReport.DateText(before))))
            {
                events.ExecuteNonQuery();
            }
            using (var alerts = Command(_writer, "DELETE FROM alerts WHERE day < CAST($before AS DATE)", ("before", DailyReport.DateText(before))))
            {
                alerts.ExecuteNonQuery();
            }
            transaction.Commit();
            return dropped;
        });

    public ValueTask<DailyReport?> LoadReportAsync(DateOnly day, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        using var command = Command(connection, "SELECT report FROM daily_reports WHERE day = CAST($day AS DATE)", ("day", DailyReport.DateText(day)));
        return ValueTask.FromResult(command.ExecuteScalar() is string json ? DailyReport.FromJson(json) : null);
    }

    public ValueTask<IReadOnlyList<StoredReport>> ListReportsAsync(int limit, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        using var command = Command(connection,
            "SELECT day, built_at, CAST(report->>'totalEvents' AS BIGINT), CAST(report->'alerts'->>'total' AS BIGINT) FROM daily_reports ORDER BY day DESC LIMIT $limit",
            ("limit", limit));
        using var reader = command.ExecuteReader();
        var reports = new List<StoredReport>();
        while (reader.Read())
        {
            reports.Add(StoredReport.Of(reader.GetFieldValue<DateOnly>(0), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)), reader.GetInt64(2), reader.GetInt64(3)));
        }
        return ValueTask.FromResult<IReadOnlyList<StoredReport>>(reports);
    }

    public ValueTask<IReadOnlyList<DateOnly>> DaysToReportAsync(DateOnly before, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        using var command = Command(connection,
            "SELECT e.day FROM (SELECT day, count(*) AS n FROM events WHERE day < CAST($before AS DATE) GROUP BY day) e " +
            "LEFT JOIN daily_reports r ON r.day = e.day WHERE r.day IS NULL OR CAST(r.report->>'totalEvents' AS BIGINT) < e.n ORDER BY e.day",
            ("before", DailyReport.DateText(before)));
        using var reader = command.ExecuteReader();
        var days = new List<DateOnly>();
        while (reader.Read())
        {
            days.Add(reader.GetFieldValue<DateOnly>(0));
        }
        return ValueTask.FromResult<IReadOnlyList<DateOnly>>(days);
    }

    public async ValueTask<QueryAnswer> QueryAsync(AnalyticsQuery query, CancellationToken cancellationToken) =>
        await LowPriorityWorker.RunOnOwnThread("duckdb-query", () => Query(query, cancellationToken));

    private QueryAnswer Query(AnalyticsQuery query, CancellationToken cancellationToken)
    {
        using var connection = OpenReader();
        RefuseAllButOneSelect(connection, query.Sql);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(query.Timeout);
        // Whatever the query might change, the transaction is never kept.
        using var transaction = connection.BeginTransaction();
        using var command = Command(connection, query.Sql);
        using var cancel = limit.Token.Register(command.Cancel);
        try
        {
            using var reader = command.ExecuteReader();
            // Stopped by command.Cancel on the time limit, not by a token; DuckDB's reader reads synchronously.
            return QueryAnswer.ReadAsync(reader, query, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new AnalyticsQueryException(QueryFailure.TimedOut, $"the query ran past its time limit of {query.Timeout.TotalSeconds:0.#} s and was stopped", e);
        }
        catch (DuckDBException e)
        {
            throw new AnalyticsQueryException(QueryFailure.Failed, e.Message, e);
        }
        finally
        {
            transaction.Rollback();
        }
    }

    public void Dispose()
    {
        _worker.Dispose(); // finishes the writes already queued
        _writer.Dispose();
    }

    /// <summary>DuckDB's own parser decides: exactly one statement, and a SELECT (a WITH query included).</summary>
    private static void RefuseAllButOneSelect(DuckDBConnection connection, string sql)
    {
        using var command = Command(connection, $"SELECT json_serialize_sql('{sql.Replace("'", "''", StringComparison.Ordinal)}')");
        using var parsed = JsonDocument.Parse((string)command.ExecuteScalar()!);
        var root = parsed.RootElement;
        if (root.GetProperty("error").GetBoolean())
        {
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : null;
            throw message is not null && message.StartsWith("Only SELECT", StringComparison.Ordinal)
                ? new AnalyticsQueryException(QueryFailure.Refused, "only read-only queries (SELECT or WITH) are allowed")
                : new AnalyticsQueryException(QueryFailure.Failed, message ?? "the query does not parse");
        }
        if (root.GetProperty("statements").GetArrayLength() != 1)
        {
            throw new AnalyticsQueryException(QueryFailure.Refused, "only one statement is allowed");
        }
    }

    private DuckDBConnection OpenReader()
    {
        var connection = new DuckDBConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Every row of a query, each made by <paramref name="read"/>, in the query's order.</summary>
    private static List<T> Rows<T>(DuckDBConnection connection, string sql, Func<System.Data.Common.DbDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    private static Dictionary<string, string> Titles(DuckDBConnection connection, params (string Name, object Value)[] parameters) =>
        Rows(connection, "SELECT rule_id, max(title) FROM alerts WHERE day = CAST($day AS DATE) GROUP BY rule_id",
            r => (Id: r.GetString(0), Title: r.IsDBNull(1) ? string.Empty : r.GetString(1)), parameters).ToDictionary(t => t.Id, t => t.Title, StringComparer.Ordinal);

    private static List<(TKey Key, long Count)> Pairs<TKey>(DuckDBConnection connection, string sql, params (string Name, object Value)[] parameters) =>
        Rows(connection, sql, r => (r.GetFieldValue<TKey>(0), r.GetInt64(1)), parameters);

    /// <summary>Name-to-count pairs in the query's order (a Dictionary keeps insertion order while nothing is removed).</summary>
    private static Dictionary<string, long> Counts(DuckDBConnection connection, string sql, params (string Name, object Value)[] parameters) =>
        Pairs<string>(connection, sql, parameters).ToDictionary(p => p.Key, p => p.Count);

    private static List<string> Strings(DuckDBConnection connection, string sql, params (string Name, object Value)[] parameters) =>
        Rows(connection, sql, r => r.GetString(0), parameters);

    /// <summary>Applies the embedded migrations newer than the recorded version, each in its own transaction.</summary>
    private int Migrate()
    {
        Execute(_writer, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        var current = (int)Scalar(_writer, "SELECT coalesce(max(version), 0) FROM schema_version");
        foreach (var (version, sql) in EmbeddedMigrations.Read(typeof(DuckDbAnalyticsStore).Assembly, "Hydrant.DuckDb.Migrations.").Where(m => m.Version > current))
        {
            using var transaction = _writer.BeginTransaction();
            Execute(_writer, sql);
            Execute(_writer, $"INSERT INTO schema_version VALUES ({version})");
            transaction.Commit();
            current = version;
        }
        return current;
    }

    private static DuckDBCommand Command(DuckDBConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(name, value));
        }
        return command;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = Command(connection, sql);
        command.ExecuteNonQuery();
    }

    private static long Scalar(DuckDBConnection connection, string sql)
    {
        using var command = Command(connection, sql);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
