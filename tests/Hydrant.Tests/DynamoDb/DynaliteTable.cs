using Hydrant.DynamoDb;
using Hydrant.Storage;
using Hydrant.Testing;
using Hydrant.Tests.RocksDb;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hydrant.Tests.DynamoDb;

/// <summary>
/// A table of one test's own on the test dynalite, filled from a real spool by the real store
/// writer, and deleted afterwards (if the writer ever made it).
/// </summary>
internal sealed class DynaliteTable : IDisposable
{
    private readonly EmbeddedStore _spool;
    private readonly DynamoDbStoreWriter _writer;
    private readonly bool _owner;
    private long _position = -1;

    /// <summary>A table of its own, or (with <paramref name="shared"/>) another node's writer into that one's table.</summary>
    public DynaliteTable(EmbeddedStore spool, DynaliteTable? shared = null, string node = "test-node")
    {
        _spool = spool;
        _owner = shared is null;
        Options = shared?.Options ?? new DynamoDbOptions { ServiceUrl = TestServers.DynamoDb, TableName = "test-" + Guid.NewGuid().ToString("N") };
        Client = DynamoDbTable.CreateClient(Options);
        Rates = new KeyWriteRates(spool.Clock);
        _writer = new DynamoDbStoreWriter(Client, Options, spool.Options, node, spool.Clock, new BatchWriter(Client, 8, Rates), NullLogger<DynamoDbStoreWriter>.Instance);
        Store = new DynamoDbEventStore(Client, Options, spool.Clock);
        // Without a consumer the spool trims what it holds at once.
        spool.Log.RegisterConsumer(DynamoDbStoreWriter.ConsumerName, 0);
    }

    public DynamoDbOptions Options { get; }

    public Amazon.DynamoDBv2.AmazonDynamoDBClient Client { get; }

    /// <summary>Write units the writer sent per partition key.</summary>
    public KeyWriteRates Rates { get; }

    public IEventStore Store { get; }

    /// <summary>The shared id claims of this table, as <paramref name="node"/> makes them.</summary>
    public IIdClaims ClaimsOf(string node, StoreOptions store) => new DynamoDbIdClaims(Client, Options, store, node, NullLogger<DynamoDbIdClaims>.Instance);

    /// <summary>Writes everything appended to the spool so far (provisioning the table first), and checks the writer's checkpoint.</summary>
    public async Task CatchUpAsync()
    {
        if (_position < 0)
        {
            _position = await _writer.LoadPositionAsync(CancellationToken.None);
        }
        var consumedTo = await _writer.LoadPositionAsync(CancellationToken.None);
        while (_spool.Log.Read(_position, 2_000) is { Count: > 0 } entries)
        {
            await _writer.ConsumeAsync(entries, CancellationToken.None);
            _position = consumedTo = entries[^1].Sequence + 1;
            _spool.Log.ReportProgress(DynamoDbStoreWriter.ConsumerName, _position);
        }
        // Past the last entry only gaps are left (duplicates that left the spool): stepped over, as the runner does.
        _position = Math.Max(_position, _spool.Log.NextSequence);
        _spool.Log.ReportProgress(DynamoDbStoreWriter.ConsumerName, _position);
        Assert.Equal(consumedTo, await _writer.LoadPositionAsync(CancellationToken.None));
    }

    public void Dispose()
    {
        if (_owner)
        {
            try
            {
                Client.DeleteTableAsync(Options.TableName).GetAwaiter().GetResult();
            }
            catch (Amazon.DynamoDBv2.Model.ResourceNotFoundException)
            {
                // never made
            }
        }
        Client.Dispose();
    }
}
