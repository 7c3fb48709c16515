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

    private const string Shared = AlertOutboxReaders.Shared;
    private const string Analytics = AlertOutboxReaders.Analytics;

    [Fact]
    public async Task The_outbox_hands_out_each_changed_alert_as_it_is_now_until_acknowledged_even_after_a_restart()
    {
        var store = _node.OpenAlertStore(Shared);
        var (a, b, c) = (AlertOf("a"), AlertOf("b"), AlertOf("c"));
        await store.CommitAsync(CommitOf(10, a, b), CancellationToken.None);
        var grown = a with { Count = 7 };
        await store.CommitAsync(CommitOf(20, grown), CancellationToken.None);
        await store.CommitAsync(CommitOf(30, c), CancellationToken.None);

        // The first commit already fills a read of two; its alert a is handed out as it is now.
        var first = await store.ReadOutboxAsync(Shared, 2, CancellationToken.None);
        Assert.Equal(new[] { (a.Id, 7L), (b.Id, 1L) }.Order(), first.Alerts.Select(x => (x.Id, x.Count)).Order());

        // Not acknowledged: a restart hands out the same again.
        _node.Close();
        using var reopened = new EmbeddedStore(_node.Clock, _node.Directory_);
        store = reopened.OpenAlertStore(Shared);
        Assert.Equal(first.Alerts.Select(x => x.Id).Order(), (await store.ReadOutboxAsync(Shared, 2, CancellationToken.None)).Alerts.Select(x => x.Id).Order());

        await store.AcknowledgeOutboxAsync(Shared, first, CancellationToken.None);
        var rest = await store.ReadOutboxAsync(Shared, 100, CancellationToken.None);
        Assert.Equal(new[] { a.Id, c.Id }.Order(StringComparer.Ordinal), rest.Alerts.Select(x => x.Id).Order(StringComparer.Ordinal));
        await store.AcknowledgeOutboxAsync(Shared, rest, CancellationToken.None);
        Assert.True((await store.ReadOutboxAsync(Shared, 100, CancellationToken.None)).IsEmpty);
    }

    [Fact]
    public async Task Each_reader_takes_every_alert_once_at_its_own_pace_across_a_restart()
    {
        var store = _node.OpenAlertStore(Shared, Analytics);
        var (a, b) = (AlertOf("a"), AlertOf("b"));
        await store.CommitAsync(CommitOf(10, a), CancellationToken.None);
        var shared = await store.ReadOutboxAsync(Shared, 100, CancellationToken.None);
        await store.AcknowledgeOutboxAsync(Shared, shared, CancellationToken.None);
        // A second commit at the same spool position (forwarded alerts while the spool is quiet).
        await store.CommitAsync(CommitOf(10, b), CancellationToken.None);

        Assert.Equal([b.Id], (await store.ReadOutboxAsync(Shared, 100, CancellationToken.None)).Alerts.Select(x => x.Id));
        // The slower reader still has both: what one reader took is kept for the other.
        _node.Close();
        using var reopened = new EmbeddedStore(_node.Clock, _node.Directory_);
        store = reopened.OpenAlertStore(Shared, Analytics);
        var analytics = await store.ReadOutboxAsync(Analytics, 100, CancellationToken.None);
        Assert.Equal(new[] { a.Id, b.Id }.Order(StringComparer.Ordinal), analytics.Alerts.Select(x => x.Id).Order(StringComparer.Ordinal));
        await store.AcknowledgeOutboxAsync(Analytics, analytics, CancellationToken.None);
        Assert.True((await store.ReadOutboxAsync(Analytics, 100, CancellationToken.None)).IsEmpty);
        var lastShared = await store.ReadOutboxAsync(Shared, 100, CancellationToken.None);
        Assert.Equal([b.Id], lastShared.Alerts.Select(x => x.Id));
        await store.AcknowledgeOutboxAsync(Shared, lastShared, CancellationToken.None);

        // Both took everything: a new commit continues after it, for both.
        var c = AlertOf("c");
        await store.CommitAsync(CommitOf(11, c), CancellationToken.None);
        Assert.Equal([c.Id], (await store.ReadOutboxAsync(Shared, 100, CancellationToken.None)).Alerts.Select(x => x.Id));
        Assert.Equal([c.Id], (await store.ReadOutboxAsync(Analytics, 100, CancellationToken.None)).Alerts.Select(x => x.Id));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.ReadOutboxAsync("nobody", 100, CancellationToken.None));
    }

    [Fact]
    public async Task Without_readers_no_outbox_is_kept()
    {
        var store = _node.OpenAlertStore();
        await store.CommitAsync(CommitOf(1, AlertOf("a")), CancellationToken.None);
        Assert.Single((await store.QueryAsync(new AlertQuery(), CancellationToken.None)).Alerts);
        // Opened later with a reader, the same database has nothing in its outbox from that commit.
        Assert.True((await _node.OpenAlertStore(Shared).ReadOutboxAsync(Shared, 100, CancellationToken.None)).IsEmpty);
    }

    public void Dispose() => _node.Dispose();
}
