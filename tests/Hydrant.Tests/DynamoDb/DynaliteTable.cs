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
public sealed class DynaliteTable : IDisposable
{
    private readonly EmbeddedStore _spool;
    private readonly DynamoDbStoreWriter _writer;
    private long _position = -1;

    public DynaliteTable(EmbeddedStore spool)
    {
        _spool = spool;
        Options = new DynamoDbOptions { ServiceUrl = TestServers.DynamoDb, TableName = "test-" + Guid.NewGuid().ToString("N") };
        Client = DynamoDbTable.CreateClient(Options);
        Rates = new KeyWriteRates(spool.Clock);
        _writer = new DynamoDbStoreWriter(Client, Options, spool.Options, "test-node", spool.Clock, new BatchWriter(Client, 8, Rates), NullLogger<DynamoDbStoreWriter>.Instance);
        Store = new DynamoDbEventStore(Client, Options, spool.Clock);
        // Without a consumer the spool trims what it holds at once.
        spool.Log.RegisterConsumer(DynamoDbStoreWriter.ConsumerName, 0);
    }

    public DynamoDbOptions Options { get; }

    public Amazon.DynamoDBv2.AmazonDynamoDBClient Client { get; }

    /// <summary>Write units the writer sent per partition key.</summary>
    public KeyWriteRates Rates { get; }

    public IEventStore Store { get; }

    /// <summary>Writes everything appended to the spool so far (provisioning the table first), and checks the writer's checkpoint.</summary>
    public async Task CatchUpAsync()
    {
        if (_position < 0)
        {
            _position = await _writer.LoadPositionAsync(CancellationToken.None);
        }
        while (_spool.Log.Read(_position, 2_000) is { Count: > 0 } entries)
        {
            await _writer.ConsumeAsync(entries, CancellationToken.None);
            _position = entries[^1].Sequence + 1;
            _spool.Log.ReportProgress(DynamoDbStoreWriter.ConsumerName, _position);
        }
        Assert.Equal(_spool.Log.NextSequence, _position);
        Assert.Equal(_position, await _writer.LoadPositionAsync(CancellationToken.None));
    }

    public void Dispose()
    {
        if (_position >= 0)
        {
            Client.DeleteTableAsync(Options.TableName).GetAwaiter().GetResult();
        }
        Client.Dispose();
    }
}
