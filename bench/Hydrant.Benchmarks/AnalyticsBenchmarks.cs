using System.Buffers;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DuckDB.NET.Data;
using Hydrant.Analytics;
using Hydrant.DuckDb;
using Hydrant.Events;
using Hydrant.Generation;
using Hydrant.Reports;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Benchmarks;

/// <summary>
/// An analytics loader alone: 65,536 generated events (canonical JSON, as the spool holds them)
/// appended into a fresh store in the loader's 32,768-entry batches. One operation = one row.
/// </summary>
public abstract class LoaderBenchmarks
{
    protected const int Rows = 65_536;
    private const int Batch = 32_768;

    private SpoolEntry[] _entries = [];

    [Params(256, 1024)]
    public int EventBytes { get; set; }

    /// <summary>The store of this iteration, opened fresh by the backend's [IterationSetup].</summary>
    protected abstract IAnalyticsStore Store { get; }

    [GlobalSetup]
    public virtual void Setup()
    {
        var ndjson = new ArrayBufferWriter<byte>();
        new EventGenerator(new GeneratorOptions { Count = Rows, SizeBytes = EventBytes, Days = 1, Sources = 5000 }).WriteNdjson(ndjson);
        var parser = new EventParser(EventLimits.Default with { MaxBodyBytes = long.MaxValue }, TimeProvider.System);
        using var parsed = parser.Parse(ndjson.WrittenSpan);
        _entries = [.. parsed.Events.Select((e, i) => new SpoolEntry(i, e.Json.ToArray(), e.Envelope))];
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public async Task LoadRows()
    {
        var loader = new AnalyticsLoader(Store);
        for (var first = 0; first < _entries.Length; first += Batch)
        {
            await loader.ConsumeAsync(_entries.AsMemory(first, Math.Min(Batch, _entries.Length - first)).ToArray(), CancellationToken.None);
        }
    }
}

/// <summary>
/// The DuckDB loader, DuckDB's memory limit at the default 512 MiB. The file size per row after
/// DuckDB's checkpoint is printed at each iteration's end ("bytes per event").
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 8)]
public class AnalyticsLoadBenchmarks : LoaderBenchmarks
{
    private string _directory = string.Empty;
    private DuckDbAnalyticsStore? _store;

    protected override IAnalyticsStore Store => _store!;

    [IterationSetup]
    public void Open()
    {
        _directory = Path.Combine(Path.GetTempPath(), "hydrant-bench-" + Guid.NewGuid().ToString("N"));
        _store = new DuckDbAnalyticsStore(new StoreOptions { DataPath = _directory }, memoryLimitMB: 512);
    }

    [IterationCleanup]
    public void Close()
    {
        _store!.Dispose(); // closing checkpoints: the file then holds every row compressed
        var bytes = new DirectoryInfo(_directory).GetFiles().Sum(f => f.Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// bytes per event ({EventBytes} B JSON): {bytes / (double)Rows:F0}"));
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>
/// Building one day's report from 10M events of that day (and 1M on each of the 7 days before,
/// for the new-sources comparison), rows made by SQL inside DuckDB so set-up takes seconds, not
/// the loader's minutes: 100,000 sources with a heavy-tailed spread, seven event types, about
/// 200 bytes of raw JSON per row. One operation = every figure of the report, from a cold start of
/// nothing but DuckDB's own caches.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class DailyReportBenchmarks
{
    private static readonly DateOnly Day = new(2026, 11, 23);
    private string _directory = string.Empty;
    private DuckDbAnalyticsStore? _store;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "hydrant-bench-report-" + Guid.NewGuid().ToString("N"));
        var options = new StoreOptions { DataPath = _directory };
        new DuckDbAnalyticsStore(options, 512).Dispose(); // applies the migrations
        using (var connection = new DuckDBConnection($"Data Source={Path.Combine(_directory, "analytics.duckdb")}"))
        {
            connection.Open();
            Fill(connection, Day, 10_000_000);
            for (var before = 7; before >= 1; before--)
            {
                Fill(connection, Day.AddDays(-before), 1_000_000);
            }
            using var alerts = connection.CreateCommand();
            alerts.CommandText = $"""
                INSERT INTO alerts SELECT 'a' || i, DATE '{DailyReport.DateText(Day)}', 'rule-' || (i % 40), 'title', ['low','medium','high','critical'][1 + i % 4],
                    NULL, 10, TIMESTAMP '{DailyReport.DateText(Day)}' + INTERVAL (i) SECOND, TIMESTAMP '{DailyReport.DateText(Day)}' + INTERVAL (i + 60) SECOND
                FROM range(2000) t(i)
                """;
            alerts.ExecuteNonQuery();
        }
        _store = new DuckDbAnalyticsStore(options, 512);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// analytics file: {new FileInfo(Path.Combine(_directory, "analytics.duckdb")).Length / 1048576} MiB"));
    }

    [Benchmark]
    public async Task<long> BuildReportOf10MEvents() => (await _store!.AggregateDayAsync(Day, CancellationToken.None)).TotalEvents;

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static void Fill(DuckDBConnection connection, DateOnly day, long rows)
    {
        using var command = connection.CreateCommand();
        var date = DailyReport.DateText(day);
        command.CommandText = $$"""
            INSERT INTO events
            SELECT id, ts, CAST(ts AS DATE), type, ip, (hash(ip) % 100)::SMALLINT, 'hydrant', split_part(type, '.', 1), NULL,
                   '{"id":"' || id || '","timestamp":"' || strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ') || '","eventType":"' || type || '","sourceIP":"' || ip
                   || '","logsource":{"product":"hydrant"},"host":"web-0' || (i % 8) || '","message":"synthetic event number ' || i || ' for the report benchmark"}'
            FROM (
                SELECT i, '{{date}}-' || i AS id,
                       TIMESTAMP '{{date}}' + to_microseconds((i * 86400000000 // {{rows}})::BIGINT) AS ts,
                       ['auth.failure','auth.success','firewall.deny','firewall.allow','dns.query','http.request','process.start'][1 + (hash(i) % 7)::INT] AS type,
                       (floor(pow((hash(i + {{rows}}) % 1000000) / 1e6, 4) * 100000))::INT AS s,
                       '10.' || (s // 65536) || '.' || ((s // 256) % 256) || '.' || (s % 256) AS ip
                FROM range({{rows}}) t(i)
            )
            """;
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// The PostgreSQL loader (binary COPY with the node's position in the same transaction), into a
/// fresh database each iteration. Needs HYDRANT_BENCH_POSTGRES (scripts/bench.sh micro starts a
/// PostgreSQL and sets it).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 8)]
public class PostgresLoadBenchmarks : LoaderBenchmarks
{
    private string _server = string.Empty;
    private string _database = string.Empty;
    private Hydrant.Postgres.PostgresAnalyticsStore? _store;

    protected override IAnalyticsStore Store => _store!;

    public override void Setup()
    {
        _server = Environment.GetEnvironmentVariable("HYDRANT_BENCH_POSTGRES")
            ?? throw new InvalidOperationException("HYDRANT_BENCH_POSTGRES is not set: run scripts/bench.sh micro, which starts PostgreSQL");
        base.Setup();
    }

    [IterationSetup]
    public void Open()
    {
        _database = "bench_" + Guid.NewGuid().ToString("N")[..12];
        Execute($"CREATE DATABASE {_database}");
        _store = new Hydrant.Postgres.PostgresAnalyticsStore(new Npgsql.NpgsqlConnectionStringBuilder(_server) { Database = _database }.ConnectionString, "bench");
        _store.LoadCheckpointAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult(); // migrations, outside the measurement
    }

    [IterationCleanup]
    public void Close()
    {
        _store!.Dispose();
        Execute($"DROP DATABASE {_database} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(_server) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
