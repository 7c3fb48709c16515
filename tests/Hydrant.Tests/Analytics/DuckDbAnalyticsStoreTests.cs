using System.Text;
using Hydrant.Analytics;
using Hydrant.DuckDb;
using Hydrant.Events;
using Hydrant.Storage;

namespace Hydrant.Tests.Analytics;

/// <summary>The embedded analytics store on a real DuckDB file, and the loader that feeds it.</summary>
public sealed class DuckDbAnalyticsStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hydrant-duckdb-" + Guid.NewGuid().ToString("N"));

    private DuckDbAnalyticsStore Open() => new(new StoreOptions { DataPath = _directory }, memoryLimitMB: 64);

    private static byte[] Canonical(int i) => Encoding.UTF8.GetBytes(
        $$"""{"id":"e-{{i}}","timestamp":"{{Timestamps.ToText(1_700_000_000_000 + (i * 1000L))}}","eventType":"auth.failure","sourceIP":"198.51.100.{{i % 250}}","logsource":{"product":"hydrant","service":"auth"},"user":"u{{i}}"}""");

    [Fact]
    public async Task A_new_store_applies_its_migrations_once_and_starts_at_position_zero()
    {
        using (var store = Open())
        {
            Assert.Equal(1, store.SchemaVersion);
            Assert.Equal(0, await store.LoadCheckpointAsync(CancellationToken.None));
        }
        using var reopened = Open();
        Assert.Equal(new AnalyticsStatus(0, 0, 1), await reopened.StatusAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_loader_appends_rows_with_their_columns_and_moves_the_checkpoint_with_them()
    {
        using (var store = Open())
        {
            var loader = new AnalyticsLoader(store);
            await loader.ConsumeAsync([.. Enumerable.Range(0, 500).Select(i => new SpoolEntry(i, Canonical(i))), new SpoolEntry(500, ReadOnlyMemory<byte>.Empty)], CancellationToken.None);
            Assert.Equal(new AnalyticsStatus(500, 501, 1), await store.StatusAsync(CancellationToken.None));
        }
        using var reopened = Open();
        Assert.Equal(501, await new AnalyticsLoader(reopened).LoadPositionAsync(CancellationToken.None));
        Assert.Equal(500, (await reopened.StatusAsync(CancellationToken.None)).Rows);
    }

    [Fact]
    public void A_canonical_event_maps_to_its_columns()
    {
        var row = AnalyticsLoader.RowOf(Canonical(7));
        Assert.Equal(("e-7", 1_700_000_007_000, "auth.failure", "198.51.100.7"), (row.Id, row.TimestampMs, row.EventType, row.SourceIP));
        Assert.Equal(("hydrant", "auth", (string?)null), (row.Product, row.Service, row.Category));
        Assert.Equal(Hydrant.Keys.SourceShard.Main(Hydrant.Keys.SourceShard.Hash("198.51.100.7")), row.Shard);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
