using System.Text;
using Hydrant.DynamoDb;
using Hydrant.Spool;
using Hydrant.Storage;
using Hydrant.Tests.RocksDb;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hydrant.Tests.DynamoDb;

/// <summary>Ids claimed across nodes in DynamoDB: while it does not answer, entries wait out of the consumers' sight, across a restart too.</summary>
public sealed class IdClaimTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly EmbeddedStore _anchor = new(new FixedClock(Now));
    private readonly DynaliteTable _table;
    private readonly List<EmbeddedStore> _nodes = [];

    public IdClaimTests() => _table = new DynaliteTable(_anchor);

    private static byte[] Events(string prefix, int count) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, count).Select(i =>
        $$"""{"id":"{{prefix}}-{{i}}","timestamp":{{Now.ToUnixTimeMilliseconds() - i}},"eventType":"claim.test","sourceIP":"10.0.0.3"}""" + "\n")));

    private EmbeddedStore Node(string name, string? directory = null, bool reachable = true)
    {
        var claims = reachable
            ? _table.ClaimsOf(name, new StoreOptions())
            : new DynamoDbIdClaims(DynamoDbTable.CreateClient(new DynamoDbOptions { ServiceUrl = "http://127.0.0.1:1", TableName = _table.Options.TableName }),
                _table.Options with { ServiceUrl = "http://127.0.0.1:1" }, new StoreOptions(), name, NullLogger<DynamoDbIdClaims>.Instance);
        var node = new EmbeddedStore(_anchor.Clock, directory, claims: claims);
        node.Log.RegisterConsumer("reader", 0);
        _nodes.Add(node);
        return node;
    }

    private static async Task AppendAsync(EmbeddedStore node, byte[] body, AppendResult expected)
    {
        using var batch = node.Parser.Parse(body);
        Assert.Equal(expected, await node.Log.AppendAsync(batch.Events, CancellationToken.None));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task While_claims_cannot_be_made_entries_are_durable_but_unseen_and_a_restart_resolves_them()
    {
        var first = Node("node-a");
        await AppendAsync(first, Events("held", 30), new AppendResult(30, 0));

        // DynamoDB out of reach: accepted (durable), answered at once, not yet for any consumer.
        var second = Node("node-b", reachable: false);
        var directory = second.Directory_;
        await AppendAsync(second, [.. Events("held", 30), .. Events("new", 20)], new AppendResult(50, 0));
        Assert.Equal(0, second.Log.NextSequence);
        Assert.Empty(second.Log.Read(0, 100));
        Assert.Equal(50, second.Log.Depth);
        second.Close();

        // Back with DynamoDB: the pending claims are resolved; what node A holds leaves the spool.
        var restarted = Node("node-b", directory);
        await WaitUntilAsync(() => restarted.Log.NextSequence == 50, "the pending range is committed");
        var entries = restarted.Log.Read(0, 100);
        Assert.Equal(20, entries.Count);
        Assert.All(entries, e => Assert.Contains("\"new-", Encoding.UTF8.GetString(e.Json.Span), StringComparison.Ordinal));
        // Sent again to node B: its own now, known at once as stored.
        await AppendAsync(restarted, Events("new", 20), new AppendResult(0, 20));
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        _table.Dispose();
        _anchor.Dispose();
    }
}
