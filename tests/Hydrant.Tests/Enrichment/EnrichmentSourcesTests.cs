using System.Buffers;
using System.Text;
using Hydrant.Enrichment;
using Hydrant.Enrichment.GeoIp;
using Hydrant.Enrichment.Intel;
using Hydrant.RocksDb;
using Hydrant.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hydrant.Tests.Enrichment;

/// <summary>The lists an enricher matches, kept current while the server runs: files changed on disk, lists put through the API, and lists another node changed in the cache.</summary>
public sealed class EnrichmentSourcesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hydrant-intel-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services;

    public EnrichmentSourcesTests()
    {
        Directory.CreateDirectory(_directory);
        _services = new ServiceCollection()
            .AddSingleton(new StoreOptions { DataPath = Path.Combine(_directory, "store") })
            .AddMetrics()
            .AddSingleton<IngestStats>()
            .AddSingleton(TimeProvider.System)
            .AddHydrantRocksDb()
            .AddRocksDbRuleCache()
            .BuildServiceProvider();
    }

    private IIntelListCache Cache => _services.GetRequiredService<IIntelListCache>();

    private (Enricher Enricher, EnrichmentSources Sources, string Path) Start(string fileText, int maxEntries = 1000)
    {
        var path = Path.Combine(_directory, "watch.netset");
        File.WriteAllText(path, fileText);
        var file = new IntelListFile("watch", path, new IntelListOptions { MaxEntries = maxEntries, Level = "low" });
        var read = EnrichmentSources.Read(file);
        var enricher = new Enricher(null, null, IntelMatcher.Build([read.List]), []);
        return (enricher, new EnrichmentSources(enricher, [read], Cache, TimeProvider.System, NullLogger<EnrichmentSources>.Instance), path);
    }

    private static string Enriched(Enricher enricher, string sourceIP)
    {
        var (output, scratch) = (new ArrayBufferWriter<byte>(), new ArrayBufferWriter<byte>());
        return enricher.TryEnrich("""{"id":"e"}"""u8, sourceIP, output, scratch) ? Encoding.UTF8.GetString(output.WrittenSpan) : "";
    }

    /// <summary>A file's time is kept to the second on some filesystems: a rewrite in the same second with the same length must still be seen, so the test moves the time on.</summary>
    private static void Rewrite(string path, string text)
    {
        var before = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, before.AddSeconds(2));
    }

    [Fact]
    public async Task A_changed_file_is_read_again_and_one_that_cannot_be_used_is_refused_keeping_the_list_in_hand()
    {
        var (enricher, sources, path) = Start("192.0.2.0/24\n", maxEntries: 2);
        using var _ = sources;
        await sources.RefreshAsync(CancellationToken.None);
        Assert.Equal(["watch"], enricher.Intel.ListsHolding("192.0.2.1"));

        Rewrite(path, "198.51.100.0/24\n");
        await sources.RefreshAsync(CancellationToken.None);
        Assert.Equal(["watch"], enricher.Intel.ListsHolding("198.51.100.1"));
        Assert.Empty(enricher.Intel.ListsHolding("192.0.2.1"));

        // Three entries where two are allowed: refused, the list read before stays in force.
        Rewrite(path, "10.0.0.1\n10.0.0.2\n10.0.0.3\n");
        await sources.RefreshAsync(CancellationToken.None);
        Assert.Equal(["watch"], enricher.Intel.ListsHolding("198.51.100.1"));
        Assert.Empty(enricher.Intel.ListsHolding("10.0.0.1"));
        // A file removed leaves its list in force too.
        File.Delete(path);
        await sources.RefreshAsync(CancellationToken.None);
        Assert.Equal(1, Assert.Single(sources.Describe()).Networks);
    }

    [Fact]
    public async Task Lists_put_apply_at_once_at_their_level_and_lists_another_node_stored_apply_at_the_next_refresh()
    {
        var (enricher, sources, _) = Start("192.0.2.0/24\n");
        using var __ = sources;
        var (change, summary) = await sources.PutAsync("feed", "203.0.113.0/24\n2001:db8::/32\n", new IntelListOptions { Level = "critical" }, CancellationToken.None);
        Assert.Equal(IntelListChange.Added, change);
        Assert.Equal((2, "api", "critical"), (summary!.Networks, summary.Source, summary.Level));
        Assert.Contains("\"enrichment\":{\"intel\":[\"feed\"],\"intel_level\":\"critical\"}", Enriched(enricher, "203.0.113.9"), StringComparison.Ordinal);
        Assert.Contains("\"intel_level\":\"low\"", Enriched(enricher, "192.0.2.9"), StringComparison.Ordinal);
        Assert.Equal("", Enriched(enricher, "10.1.1.1"));
        Assert.Equal((IntelListChange.FromFile, null), await sources.PutAsync("watch", "10.0.0.0/8\n", new IntelListOptions(), CancellationToken.None));

        // Another node stores a list, and one it should not have: the good one is matched, the other skipped.
        await Cache.SaveAsync("other", IntelListDocument.Of(new IntelListOptions { Format = IntelListFormat.Domains }, DateTimeOffset.UtcNow, "evil.example\n").Serialize(), CancellationToken.None);
        await Cache.SaveAsync("garbage", "not a document", CancellationToken.None);
        await sources.RefreshAsync(CancellationToken.None);
        Assert.Equal(["other"], enricher.Intel.ListsHoldingDomain("a.evil.example"));
        Assert.Equal(["watch", "feed", "other"], sources.Describe().Select(l => l.Name));
        Assert.Equal(1, sources.Describe().Single(l => l.Name == "feed").Hits);

        Assert.Equal(IntelListChange.Removed, await sources.DeleteAsync("feed", CancellationToken.None));
        Assert.Equal(IntelListChange.NotFound, await sources.DeleteAsync("feed", CancellationToken.None));
        Assert.Equal("", Enriched(enricher, "203.0.113.9"));
    }

    [Fact]
    public void A_database_replaced_on_disk_answers_the_next_event_not_the_cache_of_the_old_one()
    {
        static string TestData(string name) => Corpus.Path("geoip", "maxmind-test-data", "test-data", name);
        var path = Path.Combine(_directory, "city.mmdb");
        File.Copy(TestData("GeoIP2-City-Test.mmdb"), path);
        using var enricher = new Enricher(GeoIpDatabase.Open(path, GeoIpKind.City), null, IntelMatcher.Empty, []);
        Assert.Contains("\"city_name\":\"London\"", Enriched(enricher, "81.2.69.142"), StringComparison.Ordinal);

        var before = File.GetLastWriteTimeUtc(path);
        File.Copy(TestData("GeoIP2-Country-Test.mmdb"), path, overwrite: true);
        File.SetLastWriteTimeUtc(path, before.AddSeconds(2));
        Assert.True(enricher.City!.ReloadIfChanged(out _));
        var after = Enriched(enricher, "81.2.69.142");
        Assert.Contains("\"country_iso_code\":\"GB\"", after, StringComparison.Ordinal);
        Assert.DoesNotContain("city_name", after, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
