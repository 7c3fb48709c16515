using System.Text;
using Hydrant.Analytics;
using Hydrant.Events;
using Hydrant.RocksDb;
using Hydrant.Tests.DynamoDb;

namespace Hydrant.Tests.RocksDb;

/// <summary>Spool entries carry the envelope ingest found, embedded and in scale-out, and entries an older build spooled without one still read.</summary>
public sealed class SpoolEnvelopeTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly List<IDisposable> _owned = [];

    private static string Events(string prefix) => string.Join('\n', Enumerable.Range(0, 3).Select(i =>
        $$"""{"id":"{{prefix}}-{{i}}","timestamp":{{Now.ToUnixTimeMilliseconds() - i}},"eventType":"auth.failure","sourceIP":"2001:db8::{{i}}","logsource":{"product":"linux","service":"sshd"},"user":"u{{i}}"}"""));

    private EmbeddedStore Embedded()
    {
        var store = new EmbeddedStore(new FixedClock(Now));
        _owned.Add(store);
        store.Log.RegisterConsumer("reader", 0);
        return store;
    }

    private EmbeddedStore ScaleOut()
    {
        var anchor = new EmbeddedStore(new FixedClock(Now));
        var table = new DynaliteTable(anchor);
        var node = new EmbeddedStore(anchor.Clock, claims: table.ClaimsOf("node-a", new Hydrant.Storage.StoreOptions()));
        _owned.AddRange([node, table, anchor]);
        node.Log.RegisterConsumer("reader", 0);
        return node;
    }

    [Fact]
    public async Task Embedded_entries_carry_the_envelope_and_older_ones_without_it_read_the_same()
    {
        await AssertEnvelopesAsync(Embedded(), "embedded");
    }

    [Fact]
    public async Task Scale_out_entries_carry_the_envelope_and_older_ones_without_it_read_the_same()
    {
        await AssertEnvelopesAsync(ScaleOut(), "scale-out");
    }

    private static async Task AssertEnvelopesAsync(EmbeddedStore store, string prefix)
    {
        await store.AppendAsync(Events(prefix));
        var entries = store.Log.Read(0, 10);
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal(EventEnvelope.Read(e.Json.Span), e.Envelope));
        Assert.Equal(new EventLogsource("linux", "sshd"), entries[0].Envelope!.Value.Logsource);

        // As a build before envelopes spooled it: the main row's key, or the JSON, alone.
        store.RewriteSpoolValue(entries[1].Sequence, value => SpoolValue.Split(value).Payload.ToArray());
        var reread = store.Log.Read(0, 10);
        Assert.Null(reread[1].Envelope);
        Assert.Equal(Encoding.UTF8.GetString(entries[1].Json.Span), Encoding.UTF8.GetString(reread[1].Json.Span));
        Assert.Equal(entries[1].Envelope, reread[1].ReadEnvelope());
        var (before, after) = (AnalyticsLoader.ReadRow(entries[1]), AnalyticsLoader.ReadRow(reread[1]));
        Assert.Equal((before.Id, before.TimestampMs, before.EventType, before.SourceIP, before.Shard, before.Product, before.Service, before.Category),
            (after.Id, after.TimestampMs, after.EventType, after.SourceIP, after.Shard, after.Product, after.Service, after.Category));
        Assert.NotNull(reread[2].Envelope);
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
