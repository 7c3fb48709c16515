using System.Diagnostics.Metrics;
using Hydrant.Detection.Alerts;
using Hydrant.Events;
using Hydrant.Query;
using Hydrant.RocksDb;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.Tests.RocksDb;

/// <summary>A real RocksDB spool and store in a directory of the test's own, removed afterwards.</summary>
public sealed class EmbeddedStore : IDisposable
{
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly RocksDbEngine _engine;
    private readonly RocksDbSpool _log;
    private readonly bool _ownsDirectory;
    private bool _closed;

    /// <summary>A node's spool; with <paramref name="claims"/>, one of a scale-out store (its entries hold the events, ids are claimed across nodes).</summary>
    /// <remarks><paramref name="claimWait"/>: how long an append waits for its claims before leaving them to the resolver (the product's 2 s by default).</remarks>
    public EmbeddedStore(FixedClock clock, string? directory = null, StoreOptions? options = null, IIdClaims? claims = null, TimeSpan? claimWait = null)
    {
        _ownsDirectory = directory is null;
        Directory_ = directory ?? Path.Combine(Path.GetTempPath(), "hydrant-test-" + Guid.NewGuid().ToString("N"));
        Clock = clock;
        Options = (options ?? new StoreOptions()) with { DataPath = Directory_ };
        Stats = new IngestStats(_metrics.GetRequiredService<IMeterFactory>());
        _engine = RocksDbEngine.Open(Options, new RocksDbOptions { BlockCacheBytes = 8 << 20, WriteBufferBytes = 4 << 20 });
        _log = new RocksDbSpool(_engine, Stats, clock, writeStoreKeys: claims is null, trimStep: 1, claims: claims, claimWait: claimWait);
        Store = new RocksDbEventStore(_engine);
    }

    public string Directory_ { get; }
    public FixedClock Clock { get; }
    public StoreOptions Options { get; }
    public IngestStats Stats { get; }

    /// <summary>What the engine was asked to write.</summary>
    public StorageWrites Writes => _engine.Writes;
    public ISpool Log => _log;
    public IEventStore Store { get; }

    public EventParser Parser => new(EventLimits.Default, Clock);

    /// <summary>The detector's alert store in this database, keeping an outbox for <paramref name="outboxReaders"/> (as when alerts are shared or copied to analytics).</summary>
    public IAlertStore OpenAlertStore(params string[] outboxReaders) => new RocksDbAlertStore(_engine, outboxReaders);

    public IAlertTriage OpenAlertTriage() => new RocksDbAlertTriage(_engine);

    /// <summary>The dead letters kept in this database.</summary>
    public Hydrant.Spool.IDeadLetterStore OpenDeadLetters() => new RocksDbDeadLetters(_engine);

    /// <summary>The node's own rule cache in this database.</summary>
    public Hydrant.Detection.IRuleCache OpenRuleCache() => new RocksDbRuleCache(_engine);

    /// <summary>Rewrites a spool entry's stored value (as an older build would have written it).</summary>
    public void RewriteSpoolValue(long sequence, Func<byte[], byte[]> rewrite)
    {
        var key = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(key, sequence);
        _engine.Db.Put(key, rewrite(_engine.Db.Get(key, _engine.Spool)), _engine.Spool);
    }

    public async Task<AppendResult> AppendAsync(ReadOnlyMemory<byte> ndjson)
    {
        using var batch = Parser.Parse(ndjson.Span);
        Assert.Empty(batch.Rejections);
        return await Log.AppendAsync(batch.Events, CancellationToken.None);
    }

    public Task<AppendResult> AppendAsync(string ndjson) => AppendAsync(System.Text.Encoding.UTF8.GetBytes(ndjson));

    /// <summary>One page of the query, planned as the server would, from this store or <paramref name="store"/>.</summary>
    public async Task<(List<string> Ids, EventPage Page, QueryPlan Plan)> QueryAsync(EventQuery query, IEventStore? store = null)
    {
        var plan = QueryPlanner.Plan(query, Clock.GetUtcNow().ToUnixTimeMilliseconds(), Options.Retention);
        var page = await (store ?? Store).QueryAsync(query, plan, CancellationToken.None);
        var ids = page.Events.Select(e => System.Text.Json.JsonDocument.Parse(e).RootElement.GetProperty("id").GetString()!).ToList();
        return (ids, page, plan);
    }

    /// <summary>Every id the query yields, following cursors to the end.</summary>
    public async Task<List<string>> QueryAllAsync(EventQuery query, IEventStore? store = null)
    {
        var all = new List<string>();
        while (true)
        {
            var (ids, page, _) = await QueryAsync(query, store);
            all.AddRange(ids);
            if (page.NextSortKey is null)
            {
                return all;
            }
            query = query with { AfterSortKey = page.NextSortKey };
        }
    }

    /// <summary>Closes the database but keeps its directory, for reopening.</summary>
    public void Close()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        _engine.Dispose();
    }

    public void Dispose()
    {
        Close();
        Stats.Dispose();
        _metrics.Dispose();
        if (_ownsDirectory)
        {
            Directory.Delete(Directory_, recursive: true);
        }
    }
}
