using System.Text;
using Hydrant.Analytics;
using Hydrant.DuckDb;
using Hydrant.Events;
using Hydrant.Postgres;
using Hydrant.Reports;
using Hydrant.Spool;
using Hydrant.Storage;
using Hydrant.Testing;

namespace Hydrant.Tests.Compliance;

/// <summary>
/// What every analytics store does, run unchanged against each backend on a real engine:
/// embedded DuckDB and PostgreSQL. <see cref="Open"/> opens the same store again each time it is
/// called, so a test can reopen it as a restarted node would.
/// </summary>
public abstract class AnalyticsStoreCompliance<TStore> : IDisposable
    where TStore : IAnalyticsStore, IDisposable
{
    protected abstract TStore Open();

    /// <summary>The newest migration the backend embeds.</summary>
    protected abstract int SchemaVersion { get; }

    /// <summary>A SELECT that would read a file on the server's machine.</summary>
    protected abstract string FileReadingQuery { get; }

    /// <summary>A SELECT that runs for far longer than a second.</summary>
    protected abstract string EndlessQuery { get; }

    private static byte[] Canonical(int i) => Encoding.UTF8.GetBytes(
        $$"""{"id":"e-{{i}}","timestamp":"{{Timestamps.ToText(1_700_000_000_000 + (i * 1000L))}}","eventType":"auth.failure","sourceIP":"198.51.100.{{i % 250}}","logsource":{"product":"hydrant","service":"auth"},"user":"u{{i}}"}""");

    [Fact]
    public async Task A_new_store_applies_its_migrations_once_and_starts_at_position_zero()
    {
        using (var store = Open())
        {
            Assert.Equal(0, await store.LoadCheckpointAsync(CancellationToken.None));
            Assert.Equal(new AnalyticsStatus(0, 0, SchemaVersion), await store.StatusAsync(CancellationToken.None));
        }
        using var reopened = Open();
        Assert.Equal(new AnalyticsStatus(0, 0, SchemaVersion), await reopened.StatusAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_loader_appends_rows_with_their_columns_and_moves_the_checkpoint_with_them()
    {
        using (var store = Open())
        {
            var loader = new AnalyticsLoader(store);
            await loader.ConsumeAsync([.. Enumerable.Range(0, 500).Select(i => new SpoolEntry(i, Canonical(i))), new SpoolEntry(500, ReadOnlyMemory<byte>.Empty)], CancellationToken.None);
            Assert.Equal(new AnalyticsStatus(500, 501, SchemaVersion), await store.StatusAsync(CancellationToken.None));
        }
        using var reopened = Open();
        Assert.Equal(501, await new AnalyticsLoader(reopened).LoadPositionAsync(CancellationToken.None));
        Assert.Equal(500, (await reopened.StatusAsync(CancellationToken.None)).Rows);
    }

    [Fact]
    public void A_canonical_event_maps_to_its_columns()
    {
        var json = Canonical(7);
        var row = AnalyticsLoader.RowOf(EventEnvelope.Read(json), json);
        Assert.Equal(("e-7", 1_700_000_007_000, "auth.failure", "198.51.100.7"), (row.Id, row.TimestampMs, row.EventType, row.SourceIP));
        Assert.Equal(("hydrant", "auth", (string?)null), (row.Product, row.Service, row.Category));
        Assert.Equal(Hydrant.Keys.SourceShard.Main(Hydrant.Keys.SourceShard.Hash("198.51.100.7")), row.Shard);
    }

    private static AnalyticsQuery Query(string sql, int maxRows = 100, double seconds = 30) => new(sql, maxRows, TimeSpan.FromSeconds(seconds));

    private async Task<TStore> LoadedAsync(int events)
    {
        var store = Open();
        await new AnalyticsLoader(store).ConsumeAsync([.. Enumerable.Range(0, events).Select(i => new SpoolEntry(i, Canonical(i)))], CancellationToken.None);
        return store;
    }

    [Theory]
    [InlineData("INSERT INTO events SELECT * FROM events")]
    [InlineData("WITH x AS (SELECT 1) INSERT INTO events SELECT * FROM events")]
    [InlineData("DELETE FROM events")]
    [InlineData("SELECT 1; SELECT 2")]
    [InlineData("CREATE TABLE t AS SELECT 1")]
    public async Task The_engine_itself_refuses_anything_but_one_select_even_past_the_first_gate(string sql)
    {
        using var store = await LoadedAsync(10);
        var refused = await Assert.ThrowsAsync<AnalyticsQueryException>(async () => await store.QueryAsync(Query(sql), CancellationToken.None));
        Assert.Equal(QueryFailure.Refused, refused.Failure);
        Assert.Equal(10, (await store.StatusAsync(CancellationToken.None)).Rows);
    }

    [Fact]
    public async Task A_query_cannot_read_files_and_one_past_its_time_limit_is_stopped()
    {
        using var store = await LoadedAsync(10);
        var file = await Assert.ThrowsAsync<AnalyticsQueryException>(async () => await store.QueryAsync(Query(FileReadingQuery), CancellationToken.None));
        Assert.Equal(QueryFailure.Failed, file.Failure);
        var slow = await Assert.ThrowsAsync<AnalyticsQueryException>(async () =>
            await store.QueryAsync(Query(EndlessQuery, seconds: 0.3), CancellationToken.None));
        Assert.Equal(QueryFailure.TimedOut, slow.Failure);
        // The store still answers afterwards.
        Assert.Equal(10L, (await store.QueryAsync(Query("SELECT count(*) FROM events"), CancellationToken.None)).Rows[0][0]);
    }

    [Fact]
    public async Task A_query_answer_stops_at_the_row_limit_and_says_so()
    {
        using var store = await LoadedAsync(50);
        var answer = await store.QueryAsync(Query("SELECT id, timestamp, day FROM events ORDER BY timestamp", maxRows: 7), CancellationToken.None);
        Assert.Equal(["id", "timestamp", "day"], answer.Columns);
        Assert.Equal(7, answer.Rows.Count);
        Assert.True(answer.Truncated);
        Assert.Equal("e-0", answer.Rows[0][0]);
        Assert.Equal(QueryLimit.Rows, answer.TruncatedBy);
        var all = await store.QueryAsync(Query("SELECT id FROM events", maxRows: 50), CancellationToken.None);
        Assert.False(all.Truncated);
    }

    [Fact]
    public async Task A_query_answer_stops_once_its_values_reach_the_byte_limit_and_says_so()
    {
        using var store = await LoadedAsync(1);
        var query = Query("SELECT repeat('x', 1000000) AS x FROM generate_series(1, 60)", maxRows: 1000) with { MaxBytes = 3_500_000 };
        var answer = await store.QueryAsync(query, CancellationToken.None);
        Assert.Equal(QueryLimit.Bytes, answer.TruncatedBy);
        Assert.Equal(4, answer.Rows.Count);
        Assert.Equal(1_000_000, ((string)answer.Rows[0][0]!).Length);
    }

    [Fact]
    public async Task Reports_are_stored_per_day_replaced_on_rebuild_and_days_without_one_or_with_a_stale_one_are_listed()
    {
        using var store = await LoadedAsync(200); // one a second from 2023-11-14T22:13:20Z
        var day = new DateOnly(2023, 11, 14);
        Assert.Equal([day], await store.DaysToReportAsync(new DateOnly(2023, 11, 15), CancellationToken.None));
        Assert.Empty(await store.DaysToReportAsync(day, CancellationToken.None));
        Assert.Null(await store.LoadReportAsync(day, CancellationToken.None));

        var report = await store.AggregateDayAsync(day, CancellationToken.None);
        Assert.Equal(200, report.TotalEvents);
        Assert.Equal(200, report.ByHour[22]);
        await store.SaveReportAsync(report, CancellationToken.None);
        await store.SaveReportAsync(report with { TotalEvents = 7 }, CancellationToken.None);
        Assert.Equal(7, (await store.LoadReportAsync(day, CancellationToken.None))!.TotalEvents);
        // A report counting fewer events than the day now holds (late ones arrived) is stale.
        Assert.Equal([day], await store.DaysToReportAsync(new DateOnly(2023, 11, 15), CancellationToken.None));
        await store.SaveReportAsync(report, CancellationToken.None);
        Assert.Empty(await store.DaysToReportAsync(new DateOnly(2023, 11, 15), CancellationToken.None));
    }

    [Fact]
    public async Task A_report_counts_the_days_enriched_sources_by_country_network_and_intel_list()
    {
        using var store = Open();
        static byte[] Enriched(int i, string source, string enrichment) => Encoding.UTF8.GetBytes(
            $$"""{"id":"x-{{i}}","timestamp":"{{Timestamps.ToText(1_700_000_000_000 + (i * 1000L))}}","eventType":"auth.failure","sourceIP":"{{source}}","logsource":{"product":"hydrant","service":"auth"}{{enrichment}}}""");
        const string London = ""","enrichment":{"geo":{"country_iso_code":"GB","country_name":"United Kingdom","city_name":"London"},"as":{"number":1221,"organization":"Telstra Pty Ltd"},"intel":["feodo","firehol_level1"],"intel_level":"high"}""";
        const string Sweden = ""","enrichment":{"geo":{"country_iso_code":"SE","country_name":"Sweden"},"intel":["firehol_level1"],"intel_level":"medium"}""";
        var events = new List<byte[]>();
        events.AddRange(Enumerable.Range(0, 3).Select(i => Enriched(i, "81.2.69.142", London)));
        events.AddRange(Enumerable.Range(3, 2).Select(i => Enriched(i, "89.160.20." + i, Sweden)));
        events.Add(Enriched(5, "10.0.0.1", ""));
        events.Add(Enriched(6, "10.0.0.2", ""","enrichment":{"fields":{"destinationIP":{"intel":["feodo"]}}}"""));
        await new AnalyticsLoader(store).ConsumeAsync([.. events.Select((e, i) => new SpoolEntry(i, e))], CancellationToken.None);

        var enrichment = (await store.AggregateDayAsync(new DateOnly(2023, 11, 14), CancellationToken.None)).Enrichment;
        Assert.Equal([new CountryCount("GB", "United Kingdom", 3), new CountryCount("SE", "Sweden", 2)], enrichment.TopCountries);
        Assert.Equal([new NetworkCount(1221, "Telstra Pty Ltd", 3)], enrichment.TopNetworks);
        // Lists that held a field's address are that field's, not the source's: not counted here.
        Assert.Equal([new IntelMatch("firehol_level1", 5, 3), new IntelMatch("feodo", 3, 1)], enrichment.IntelMatches);
        Assert.True((await store.AggregateDayAsync(new DateOnly(2023, 11, 15), CancellationToken.None)).Enrichment.IsEmpty);
    }

    [Fact]
    public async Task Stored_reports_are_listed_newest_day_first_with_their_totals_up_to_the_limit()
    {
        using var store = await LoadedAsync(200);
        var day = new DateOnly(2023, 11, 14);
        Assert.Empty(await store.ListReportsAsync(10, CancellationToken.None));
        var report = await store.AggregateDayAsync(day, CancellationToken.None);
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await store.SaveReportAsync(report, CancellationToken.None);
        await store.SaveReportAsync(report with { Date = "2023-11-12", TotalEvents = 5, Alerts = report.Alerts with { Total = 3 } }, CancellationToken.None);
        await store.SaveReportAsync(report with { Date = "2023-11-13", TotalEvents = 6 }, CancellationToken.None);

        var listed = await store.ListReportsAsync(2, CancellationToken.None);
        Assert.Equal(["2023-11-14", "2023-11-13"], listed.Select(r => r.Date));
        Assert.Equal(200, listed[0].TotalEvents);
        Assert.InRange(Timestamps.ParseCanonical(listed[0].BuiltAt), before.ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        var all = await store.ListReportsAsync(10, CancellationToken.None);
        Assert.Equal((5L, 3L), (all[^1].TotalEvents, all[^1].Alerts));
    }

    [Fact]
    public async Task A_days_alerts_are_replaced_as_a_whole_and_counted_per_rule_and_level()
    {
        using var store = Open();
        var day = new DateOnly(2023, 11, 14);
        static Hydrant.Detection.Alerts.Alert Alert(string rule, string level) => Hydrant.Detection.Alerts.Alert.Raise(rule, "title of " + rule, level, null, [], 1, 1_699_999_999_000, 1_700_000_000_000);
        await store.ReplaceAlertsAsync(day, [Alert("a", "high"), Alert("a", "high"), Alert("b", "low")], CancellationToken.None);
        await store.ReplaceAlertsAsync(day, [Alert("a", "high"), Alert("b", "low"), Alert("b", "critical")], CancellationToken.None);
        var alerts = (await store.AggregateDayAsync(day, CancellationToken.None)).Alerts;
        Assert.Equal(3, alerts.Total);
        Assert.Equal(new Dictionary<string, long> { ["b"] = 2, ["a"] = 1 }, alerts.ByRule);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "title of a", ["b"] = "title of b" }, alerts.RuleTitles);
        Assert.Equal(new Dictionary<string, long> { ["critical"] = 1, ["high"] = 1, ["low"] = 1 }, alerts.ByLevel);
    }

    [Fact]
    public async Task Alerts_copied_as_committed_are_replaced_by_id_as_they_grow_each_on_the_day_it_began()
    {
        using var store = Open();
        var day = new DateOnly(2023, 11, 14);
        var a = Hydrant.Detection.Alerts.Alert.Raise("a", "title of a", "high", "sourceIP=10.0.0.1", [], 1, 1_699_999_999_000, 1_700_000_000_000);
        var b = Hydrant.Detection.Alerts.Alert.Raise("b", "title of b", "low", null, [], 1, 1_700_000_000_000, 1_700_000_000_000);
        await store.UpsertAlertsAsync([a], CancellationToken.None);
        // Grown under suppression past midnight: still one alert, still on the day it began.
        await store.UpsertAlertsAsync([a with { Count = 9, LastSeen = Timestamps.ToText(1_700_050_000_000) }, b], CancellationToken.None);
        var rows = await store.QueryAsync(Query("SELECT id, count, CAST(day AS VARCHAR) FROM alerts ORDER BY rule_id"), CancellationToken.None);
        Assert.Equal([[a.Id, 9L, "2023-11-14"], [b.Id, 1L, "2023-11-14"]], rows.Rows.Select(r => r.ToArray()).ToArray());
        Assert.Equal(2, (await store.AggregateDayAsync(day, CancellationToken.None)).Alerts.Total);
        // A report's copy of the day replaces them again, without doubling.
        await store.ReplaceAlertsAsync(day, [a with { Count = 9 }, b], CancellationToken.None);
        Assert.Equal(2, (await store.AggregateDayAsync(day, CancellationToken.None)).Alerts.Total);
    }

    [Fact]
    public async Task Retention_drops_the_events_and_alerts_of_days_before_the_cutoff_and_keeps_reports()
    {
        using var store = await LoadedAsync(200); // 2023-11-14 22:13:20Z onwards, one a second: one day
        var day = new DateOnly(2023, 11, 14);
        await store.SaveReportAsync(await store.AggregateDayAsync(day, CancellationToken.None), CancellationToken.None);
        Assert.Equal(0, await store.DropDaysBeforeAsync(day, CancellationToken.None));
        Assert.Equal(200, (await store.StatusAsync(CancellationToken.None)).Rows);

        Assert.Equal(1, await store.DropDaysBeforeAsync(day.AddDays(1), CancellationToken.None));
        Assert.Equal(0, (await store.StatusAsync(CancellationToken.None)).Rows);
        Assert.Equal(200, (await store.LoadReportAsync(day, CancellationToken.None))!.TotalEvents);
        // The day can be loaded again (a partition dropped is made again).
        await new AnalyticsLoader(store).ConsumeAsync([new SpoolEntry(500, Canonical(3))], CancellationToken.None);
        Assert.Equal(1, (await store.StatusAsync(CancellationToken.None)).Rows);
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

public sealed class DuckDbAnalyticsCompliance : AnalyticsStoreCompliance<DuckDbAnalyticsStore>
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hydrant-duckdb-" + Guid.NewGuid().ToString("N"));

    protected override int SchemaVersion => 2;

    protected override string FileReadingQuery => "SELECT * FROM read_text('/etc/hostname')";

    protected override string EndlessQuery => "SELECT count(*) FROM range(1000000000000) a";

    protected override DuckDbAnalyticsStore Open() => new(new StoreOptions { DataPath = _directory }, memoryLimitMB: 64);

    public override void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
        base.Dispose();
    }
}

public sealed class PostgresAnalyticsCompliance : AnalyticsStoreCompliance<PostgresAnalyticsStore>
{
    private readonly PostgresDatabase _database = new();

    protected override int SchemaVersion => 5;

    protected override string FileReadingQuery => "SELECT pg_read_file('/etc/hostname')";

    protected override string EndlessQuery => "SELECT count(*) FROM generate_series(1, 1000000000000) a";

    protected override PostgresAnalyticsStore Open() => new(_database.ConnectionString, node: "test-node");

    public override void Dispose()
    {
        _database.Dispose();
        base.Dispose();
    }
}
