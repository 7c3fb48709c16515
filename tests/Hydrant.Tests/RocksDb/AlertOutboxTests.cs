using Hydrant.Detection.Alerts;
using Hydrant.Events;

namespace Hydrant.Tests.RocksDb;

public sealed class AlertOutboxTests : IDisposable
{
    private static readonly long NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly EmbeddedStore _node = new(new FixedClock(DateTimeOffset.UtcNow));

    private static Alert AlertOf(string rule) =>
        Alert.Raise(rule, rule, "high", null, [new AlertEvent("e1", Timestamps.ToText(NowMs), "auth.failure", "10.0.0.1")], 1, NowMs, NowMs);

    private static DetectorCommit CommitOf(long checkpoint, params Alert[] changed) => new(changed, [], new Dictionary<string, byte[]?>(), checkpoint);

    [Fact]
    public async Task The_outbox_hands_out_each_changed_alert_as_it_is_now_until_acknowledged_even_after_a_restart()
    {
        var store = _node.OpenAlertStore(keepOutbox: true);
        var (a, b, c) = (AlertOf("a"), AlertOf("b"), AlertOf("c"));
        await store.CommitAsync(CommitOf(10, a, b), CancellationToken.None);
        var grown = a with { Count = 7 };
        await store.CommitAsync(CommitOf(20, grown), CancellationToken.None);
        await store.CommitAsync(CommitOf(30, c), CancellationToken.None);

        // The first commit already fills a read of two; its alert a is handed out as it is now.
        var first = await store.ReadOutboxAsync(2, CancellationToken.None);
        Assert.Equal(10, first.ThroughCheckpoint);
        Assert.Equal(new[] { (a.Id, 7L), (b.Id, 1L) }.Order(), first.Alerts.Select(x => (x.Id, x.Count)).Order());

        // Not acknowledged: a restart hands out the same again.
        _node.Close();
        using var reopened = new EmbeddedStore(_node.Clock, _node.Directory_);
        store = reopened.OpenAlertStore(keepOutbox: true);
        Assert.Equal(first.Alerts.Select(x => x.Id).Order(), (await store.ReadOutboxAsync(2, CancellationToken.None)).Alerts.Select(x => x.Id).Order());

        await store.AcknowledgeOutboxAsync(first, CancellationToken.None);
        var rest = await store.ReadOutboxAsync(100, CancellationToken.None);
        Assert.Equal(30, rest.ThroughCheckpoint);
        Assert.Equal(new[] { a.Id, c.Id }.Order(StringComparer.Ordinal), rest.Alerts.Select(x => x.Id).Order(StringComparer.Ordinal));
        await store.AcknowledgeOutboxAsync(rest, CancellationToken.None);
        Assert.True((await store.ReadOutboxAsync(100, CancellationToken.None)).IsEmpty);
    }

    [Fact]
    public async Task Without_sharing_no_outbox_is_kept()
    {
        var store = _node.OpenAlertStore();
        await store.CommitAsync(CommitOf(1, AlertOf("a")), CancellationToken.None);
        Assert.True((await store.ReadOutboxAsync(100, CancellationToken.None)).IsEmpty);
        Assert.Single((await store.QueryAsync(new AlertQuery(), CancellationToken.None)).Alerts);
    }

    public void Dispose() => _node.Dispose();
}
