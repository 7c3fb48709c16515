using DuckDB.NET.Data;
using Hydrant.Analytics;
using Hydrant.Storage;

namespace Hydrant.DuckDb;

/// <summary>
/// The embedded analytics store: one DuckDB file in the data folder, schema from the numbered
/// migrations embedded in this assembly (the version applied is recorded in schema_version).
/// Rows go in through DuckDB's Appender inside the transaction that also moves the loader's
/// checkpoint, so a crash between the two leaves neither. DuckDB's memory is capped so loading
/// never grows the process without bound.
/// </summary>
public sealed class DuckDbAnalyticsStore : IAnalyticsStore, IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DuckDbAnalyticsStore(StoreOptions store, int memoryLimitMB)
    {
        Directory.CreateDirectory(store.DataPath);
        _connection = new DuckDBConnection($"Data Source={Path.Combine(store.DataPath, "analytics.duckdb")}");
        _connection.Open();
        Execute($"SET memory_limit = '{memoryLimitMB}MB'");
        SchemaVersion = Migrate();
    }

    public int SchemaVersion { get; }

    public async ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return Scalar("SELECT position FROM loader_checkpoint");
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask AppendAsync(IReadOnlyList<AnalyticsRow> rows, long checkpoint, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var transaction = _connection.BeginTransaction();
            using (var appender = _connection.CreateAppender("events"))
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
                        .AppendValue(System.Text.Encoding.UTF8.GetString(row.Json.Span))
                        .EndRow();
                }
            }
            using (var command = _connection.CreateCommand())
            {
                command.CommandText = "UPDATE loader_checkpoint SET position = $position";
                command.Parameters.Add(new DuckDBParameter("position", checkpoint));
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<AnalyticsStatus> StatusAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return new AnalyticsStatus(Scalar("SELECT count(*) FROM events"), Scalar("SELECT position FROM loader_checkpoint"), SchemaVersion);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _connection.Dispose();
        _gate.Dispose();
    }

    /// <summary>Applies the embedded migrations newer than the recorded version, each in its own transaction.</summary>
    private int Migrate()
    {
        Execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        var current = (int)Scalar("SELECT coalesce(max(version), 0) FROM schema_version");
        var assembly = typeof(DuckDbAnalyticsStore).Assembly;
        const string Prefix = "Hydrant.DuckDb.Migrations.";
        var migrations = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Version: int.Parse(n[Prefix.Length..n.IndexOf('_', Prefix.Length)], System.Globalization.CultureInfo.InvariantCulture), Name: n))
            .OrderBy(m => m.Version)
            .ToList();
        foreach (var (version, name) in migrations.Where(m => m.Version > current))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            using var transaction = _connection.BeginTransaction();
            Execute(reader.ReadToEnd());
            Execute($"INSERT INTO schema_version VALUES ({version})");
            transaction.Commit();
            current = version;
        }
        return current;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
