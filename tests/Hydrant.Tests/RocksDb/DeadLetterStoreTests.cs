using System.Text;
using Hydrant.Spool;

namespace Hydrant.Tests.RocksDb;

public sealed class DeadLetterStoreTests : IDisposable
{
    private readonly EmbeddedStore _node = new(new FixedClock(DateTimeOffset.UtcNow));

    private static DeadLetter Letter(string consumer, long sequence, string json) =>
        new(consumer, sequence, 1_764_000_000_000 + sequence, "cannot read " + sequence, Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Dead_letters_are_kept_with_their_bytes_listed_newest_first_in_pages_and_counted_after_a_restart()
    {
        var store = _node.OpenDeadLetters();
        store.SetAside(Letter("analytics", 5, "{\"a\":1}"));
        store.SetAside(Letter("detector", 7, "[[[["));
        store.SetAside(Letter("analytics", 9, "{\"b\":2}"));
        store.SetAside(new DeadLetter("analytics", 12, 1, "bytes", new byte[] { 0xFF, 0x00, 0x7B }));
        // Setting the same entry aside again (a retried batch) replaces it and counts once.
        store.SetAside(Letter("analytics", 9, "{\"b\":2}"));

        Assert.Equal([12L, 9, 7, 5], store.List(null, null, 10).Select(l => l.Sequence));
        Assert.Equal([9L, 5], store.List("analytics", 12, 10).Select(l => l.Sequence));
        Assert.Equal([7L], store.List(null, 9, 1).Select(l => l.Sequence));
        Assert.Empty(store.List("store", null, 10));
        var bytes = store.List("analytics", null, 1)[0];
        Assert.Equal(new byte[] { 0xFF, 0x00, 0x7B }, bytes.Event.ToArray());
        Assert.Equal("bytes", bytes.Reason);

        _node.Close();
        using var reopened = new EmbeddedStore(_node.Clock, _node.Directory_);
        var again = reopened.OpenDeadLetters();
        Assert.Equal(3, again.Counts()["analytics"]);
        Assert.Equal(1, again.Counts()["detector"]);
        var kept = again.List("detector", null, 10).Single();
        Assert.Equal("[[[[", Encoding.UTF8.GetString(kept.Event.Span));
        Assert.Equal(1_764_000_000_007, kept.AtMs);
    }

    public void Dispose() => _node.Dispose();
}
