using Hydrant.Detection.Alerts;
using Hydrant.DynamoDb;
using Hydrant.Events;
using Hydrant.Testing;
using Hydrant.Tests.RocksDb;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hydrant.Tests.Compliance;

/// <summary>
/// What every place that lists alerts answers (GET /v1/alerts), run unchanged against each backend
/// on a real engine: a node's own RocksDB alert store, filled by detector commits, and the shared
/// alert store on DynamoDB (dynalite), filled by puts.
/// </summary>
public abstract class AlertStoreCompliance : IDisposable
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly long NowMs = Now.ToUnixTimeMilliseconds();
    private const long Minute = 60_000;

    protected abstract IAlertView View { get; }

    /// <summary>Stores the alerts (new, or new versions of stored ones) as the backend receives them.</summary>
    protected abstract Task StoreAsync(IReadOnlyCollection<Alert> alerts);

    /// <summary>An alert whose id was made at <paramref name="madeAt"/>, over events from <paramref name="firstMs"/> to <paramref name="lastMs"/>.</summary>
    protected static Alert AlertOf(DateTimeOffset madeAt, string rule = "r1", string level = "high", long? firstMs = null, long? lastMs = null, long count = 1) =>
        Alert.Raise(rule, "title of " + rule, level, "sourceIP=10.0.0.1", [new AlertEvent("e1", Timestamps.ToText(firstMs ?? NowMs), "auth.failure", "10.0.0.1")],
            count, firstMs ?? NowMs, lastMs ?? firstMs ?? NowMs) with
        { Id = Ulid.NewUlid(madeAt).ToString() };

    private async Task<List<Alert>> ListAllAsync(AlertQuery query)
    {
        var all = new List<Alert>();
        for (var page = await View.QueryAsync(query, CancellationToken.None); ; page = await View.QueryAsync(query with { AfterId = page.NextId }, CancellationToken.None))
        {
            Assert.True(page.Alerts.Count <= query.Limit);
            all.AddRange(page.Alerts);
            if (page.NextId is null)
            {
                return all;
            }
            Assert.Equal(page.Alerts[^1].Id, page.NextId);
        }
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_in_pages_that_follow_the_cursor_across_months()
    {
        // Made over three months, stored out of order.
        var alerts = Enumerable.Range(0, 25).Select(i => AlertOf(Now.AddDays(-3 * i).AddSeconds(i))).Reverse().ToList();
        await StoreAsync(alerts[..10]);
        await StoreAsync(alerts[10..]);

        var listed = await ListAllAsync(new AlertQuery { Limit = 7 });
        Assert.Equal(alerts.Select(a => a.Id).OrderDescending(StringComparer.Ordinal), listed.Select(a => a.Id));
        Assert.Equivalent(alerts.OrderBy(a => a.Id, StringComparer.Ordinal).Last(), listed[0], strict: true);

        var exact = await View.QueryAsync(new AlertQuery { Limit = 25 }, CancellationToken.None);
        Assert.Equal(25, exact.Alerts.Count);
        Assert.Null(exact.NextId);
    }

    [Fact]
    public async Task Filters_select_by_rule_level_and_events_overlapping_the_range()
    {
        var early = AlertOf(Now.AddMinutes(-30), "brute", "high", NowMs - (30 * Minute), NowMs - (20 * Minute));
        var spanning = AlertOf(Now.AddMinutes(-20), "brute", "high", NowMs - (25 * Minute), NowMs - (5 * Minute));
        var late = AlertOf(Now.AddMinutes(-10), "scan", "medium", NowMs - (10 * Minute), NowMs - (2 * Minute));
        var low = AlertOf(Now.AddMinutes(-5), "brute", "low", NowMs - Minute);
        await StoreAsync([early, spanning, late, low]);

        Assert.Equal([low.Id, spanning.Id, early.Id], (await ListAllAsync(new AlertQuery { Rule = "brute", Limit = 2 })).Select(a => a.Id));
        Assert.Equal([spanning.Id, early.Id], (await ListAllAsync(new AlertQuery { Rule = "brute", Level = "high" })).Select(a => a.Id));
        Assert.Equal([late.Id], (await ListAllAsync(new AlertQuery { Level = "medium" })).Select(a => a.Id));
        // [from, to): an alert counts when its span of events overlaps the range.
        Assert.Equal([late.Id, spanning.Id], (await ListAllAsync(new AlertQuery { FromMs = NowMs - (12 * Minute), ToMs = NowMs - (2 * Minute) })).Select(a => a.Id));
        Assert.Equal([spanning.Id, early.Id], (await ListAllAsync(new AlertQuery { ToMs = NowMs - (10 * Minute) })).Select(a => a.Id));
        Assert.Empty(await ListAllAsync(new AlertQuery { Rule = "scan", FromMs = NowMs - Minute }));
    }

    [Fact]
    public async Task Rule_takes_an_id_or_the_exact_title_and_source_ip_any_of_the_alerts_events_sources()
    {
        var brute = AlertOf(Now.AddMinutes(-3), "brute");
        var scan = Alert.Raise("scan", "Port Scan", "medium", null,
            [new AlertEvent("e2", Timestamps.ToText(NowMs), "firewall.deny", "10.0.0.2"), new AlertEvent("e3", Timestamps.ToText(NowMs), "firewall.deny", "2001:db8::9")],
            2, NowMs, NowMs) with
        { Id = Ulid.NewUlid(Now.AddMinutes(-2)).ToString() };
        await StoreAsync([brute, scan]);

        Assert.Equal([scan.Id], (await ListAllAsync(new AlertQuery { Rule = "Port Scan" })).Select(a => a.Id));
        Assert.Equal([scan.Id], (await ListAllAsync(new AlertQuery { Rule = "scan" })).Select(a => a.Id));
        Assert.Empty(await ListAllAsync(new AlertQuery { Rule = "Port" }));
        Assert.Equal([scan.Id], (await ListAllAsync(new AlertQuery { SourceIP = "2001:db8::9" })).Select(a => a.Id));
        Assert.Equal([brute.Id], (await ListAllAsync(new AlertQuery { SourceIP = "10.0.0.1" })).Select(a => a.Id));
        Assert.Empty(await ListAllAsync(new AlertQuery { SourceIP = "10.0.0.3" }));
        Assert.Empty(await ListAllAsync(new AlertQuery { SourceIP = "10.0.0.2", Rule = "brute" }));
    }

    [Fact]
    public async Task A_new_version_of_an_alert_replaces_the_stored_one()
    {
        var first = AlertOf(Now, count: 10, firstMs: NowMs - Minute, lastMs: NowMs - Minute);
        await StoreAsync([first]);
        var grown = first with { Count = 25, LastSeen = Timestamps.ToText(NowMs) };
        await StoreAsync([grown]);

        var listed = Assert.Single(await ListAllAsync(new AlertQuery()));
        Assert.Equal(25, listed.Count);
        Assert.Equal(grown.LastSeen, listed.LastSeen);
        Assert.Equal(first.Events, listed.Events);
    }

    [Fact]
    public async Task A_filter_that_matches_little_reads_at_most_the_page_bound_and_its_cursor_goes_on_to_every_match()
    {
        // Two months: a rare match in each, among many that do not match.
        var rareOld = AlertOf(Now.AddDays(-40), level: "critical");
        var rareNew = AlertOf(Now.AddMinutes(-30), level: "critical");
        var common = Enumerable.Range(0, 120).Select(i => AlertOf(Now.AddMinutes(-i).AddSeconds(-1), level: "low"))
            .Concat(Enumerable.Range(0, 60).Select(i => AlertOf(Now.AddDays(-40).AddMinutes(i + 1), level: "low"))).ToList();
        await StoreAsync([rareOld, rareNew, .. common]);

        var query = new AlertQuery { Level = "critical", Limit = 10, MaxExamined = 40 };
        var pages = new List<AlertPage>();
        for (var page = await View.QueryAsync(query, CancellationToken.None); ; page = await View.QueryAsync(query with { AfterId = page.NextId }, CancellationToken.None))
        {
            pages.Add(page);
            if (page.NextId is null || pages.Count > 50)
            {
                break;
            }
        }
        Assert.Null(pages[^1].NextId);
        Assert.Equal([rareNew.Id, rareOld.Id], pages.SelectMany(p => p.Alerts).Select(a => a.Id));
        // No page read past its bound: 182 alerts take more than one page of 40.
        Assert.True(pages.Count >= 4, $"{pages.Count} pages");
        // With the product's bound, an unfiltered page is full.
        Assert.Equal(100, (await View.QueryAsync(new AlertQuery(), CancellationToken.None)).Alerts.Count);
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

public sealed class RocksDbAlertStoreCompliance : AlertStoreCompliance
{
    private readonly EmbeddedStore _node = new(new FixedClock(DateTimeOffset.UtcNow));
    private readonly IAlertStore _store;
    private long _checkpoint;

    public RocksDbAlertStoreCompliance() => _store = _node.OpenAlertStore();

    protected override IAlertView View => _store;

    protected override async Task StoreAsync(IReadOnlyCollection<Alert> alerts) =>
        await _store.CommitAsync(new DetectorCommit(alerts, [], new Dictionary<string, byte[]?>(), ++_checkpoint), CancellationToken.None);

    public override void Dispose()
    {
        _node.Dispose();
        base.Dispose();
    }
}

public sealed class DynamoDbAlertStoreCompliance : AlertStoreCompliance
{
    private readonly DynamoDbOptions _options = new() { ServiceUrl = TestServers.DynamoDb, TableName = "test-" + Guid.NewGuid().ToString("N") };
    private readonly Amazon.DynamoDBv2.AmazonDynamoDBClient _client;
    private readonly DynamoDbAlertStore _store;
    private bool _created;

    public DynamoDbAlertStoreCompliance()
    {
        _client = DynamoDbTable.CreateClient(_options);
        _store = new DynamoDbAlertStore(_client, _options, new BatchWriter(_client, 4, new KeyWriteRates(TimeProvider.System)), NullLogger<DynamoDbAlertStore>.Instance);
    }

    protected override IAlertView View => _store;

    protected override async Task StoreAsync(IReadOnlyCollection<Alert> alerts)
    {
        _created = true;
        await _store.PutAsync(alerts, CancellationToken.None);
    }

    public override void Dispose()
    {
        if (_created)
        {
            _client.DeleteTableAsync(_options.TableName).GetAwaiter().GetResult();
        }
        _client.Dispose();
        base.Dispose();
    }
}
