using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Hydrant.Detection.Alerts;
using Hydrant.Events;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// Alerts in the alerts column family, keyed by id (a ULID, so key order is creation order); the
/// detector's checkpoint, its open alerts and its correlation windows ("detector/state/...") in
/// the meta family, all written in one atomic batch. With <paramref name="outboxReaders"/> (alerts
/// shared with other nodes, copied to the analytics store) the batch also holds the ids it changed
/// under "detector/outbox/{n}" (n counts commits that changed alerts: two commits may share a
/// checkpoint, one of forwarded alerts while the spool is quiet); each reader's acknowledged n is
/// kept under "detector/outbox-read/{reader}", and an entry goes once every reader has taken it.
/// </summary>
internal sealed class RocksDbAlertStore(RocksDbEngine engine, IReadOnlyCollection<string>? outboxReaders = null) : IAlertStore
{
    private const string ReadPrefix = "detector/outbox-read/";
    private readonly IReadOnlyCollection<string> _readers = outboxReaders ?? [];
    private long _lastOutbox = -1;

    private static readonly byte[] CheckpointKey = "detector/checkpoint"u8.ToArray();
    private static readonly byte[] OpenKey = "detector/open"u8.ToArray();
    private static readonly byte[] OutboxPrefix = "detector/outbox/"u8.ToArray();
    private const string StatePrefix = "detector/state/";
    private static readonly byte[] ForwardedKey = "detector/forwarded"u8.ToArray();
    // Where builds before the commit field kept the position: inside the window state. Read once,
    // then replaced at the next commit that moves it.
    private static readonly byte[] LegacyForwardedKey = Encoding.UTF8.GetBytes(StatePrefix + "shared/forwarded");
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    // Not fsynced on its own: the batch is atomic and reaches the WAL (so it survives kill -9) at
    // once, and a power loss can only take back the newest commits as a whole, checkpoint included,
    // whose events are still in the synced spool, so detection redoes them. The WAL is durable as a
    // prefix: a later synced write (an ingest) makes every commit before it durable too.
    private readonly WriteOptions _written = new();

    public ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(engine.Db.Get(CheckpointKey, engine.Meta) is { } bytes ? BinaryPrimitives.ReadInt64BigEndian(bytes) : 0L);

    public ValueTask<IReadOnlyList<Alert>> LoadOpenAsync(CancellationToken cancellationToken)
    {
        var ids = engine.Db.Get(OpenKey, engine.Meta) is { } bytes ? JsonSerializer.Deserialize<List<string>>(bytes, Json) ?? [] : [];
        IReadOnlyList<Alert> open = [.. ids.Select(Load).OfType<Alert>()];
        return ValueTask.FromResult(open);
    }

    public ValueTask<IReadOnlyDictionary<string, byte[]>> LoadStateAsync(CancellationToken cancellationToken)
    {
        var state = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var prefix = Encoding.UTF8.GetBytes(StatePrefix);
        using var iterator = engine.Db.NewIterator(engine.Meta);
        for (iterator.Seek(prefix); iterator.Valid() && iterator.GetKeySpan().StartsWith(prefix); iterator.Next())
        {
            if (iterator.GetKeySpan().SequenceEqual(LegacyForwardedKey))
            {
                continue;
            }
            state[Encoding.UTF8.GetString(iterator.GetKeySpan()[prefix.Length..])] = iterator.Value();
        }
        return ValueTask.FromResult<IReadOnlyDictionary<string, byte[]>>(state);
    }

    public ValueTask<string?> LoadForwardedPositionAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult((engine.Db.Get(ForwardedKey, engine.Meta) ?? engine.Db.Get(LegacyForwardedKey, engine.Meta)) is { } position ? Encoding.ASCII.GetString(position) : null);

    public ValueTask CommitAsync(DetectorCommit commit, CancellationToken cancellationToken)
    {
        using var batch = new WriteBatch();
        foreach (var alert in commit.Changed)
        {
            batch.Put(Encoding.ASCII.GetBytes(alert.Id), JsonSerializer.SerializeToUtf8Bytes(alert, Json), engine.Alerts);
        }
        if (commit.Open is { } open)
        {
            batch.Put(OpenKey, JsonSerializer.SerializeToUtf8Bytes(open.Select(a => a.Id).ToList(), Json), engine.Meta);
        }
        foreach (var (key, value) in commit.State)
        {
            var stateKey = Encoding.UTF8.GetBytes(StatePrefix + key);
            if (value is null)
            {
                batch.Delete(stateKey, engine.Meta);
            }
            else
            {
                batch.Put(stateKey, value, engine.Meta);
            }
        }
        var position = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(position, commit.Checkpoint);
        batch.Put(CheckpointKey, position, engine.Meta);
        if (commit.ForwardedPosition is { } forwarded)
        {
            batch.Put(ForwardedKey, Encoding.ASCII.GetBytes(forwarded), engine.Meta);
            batch.Delete(LegacyForwardedKey, engine.Meta);
        }
        if (_readers.Count > 0 && commit.Changed.Count > 0)
        {
            var entry = LastOutbox() + 1;
            batch.Put(OutboxKey(entry), JsonSerializer.SerializeToUtf8Bytes(commit.Changed.Select(a => a.Id).ToList(), Json), engine.Meta);
            engine.Write(batch, _written);
            _lastOutbox = entry;
            return ValueTask.CompletedTask;
        }
        engine.Write(batch, _written);
        return ValueTask.CompletedTask;
    }

    public ValueTask<AlertOutbox> ReadOutboxAsync(string reader, int maxAlerts, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var through = -1L;
        var start = OutboxKey(ReadThrough(reader) + 1);
        using var iterator = engine.Db.NewIterator(engine.Meta);
        for (iterator.Seek(start); iterator.Valid() && iterator.GetKeySpan().StartsWith(OutboxPrefix) && ids.Count < maxAlerts; iterator.Next())
        {
            through = BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan()[OutboxPrefix.Length..]);
            ids.UnionWith(JsonSerializer.Deserialize<List<string>>(iterator.GetValueSpan(), Json) ?? []);
        }
        return ValueTask.FromResult(through < 0 ? AlertOutbox.Empty : new AlertOutbox([.. ids.Select(Load).OfType<Alert>()], through));
    }

    public ValueTask AcknowledgeOutboxAsync(string reader, AlertOutbox outbox, CancellationToken cancellationToken)
    {
        using var batch = new WriteBatch();
        var position = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(position, outbox.Through);
        batch.Put(ReadKey(reader), position, engine.Meta);
        // What every reader has taken goes.
        var taken = _readers.Min(r => r == reader ? outbox.Through : ReadThrough(r));
        using var iterator = engine.Db.NewIterator(engine.Meta);
        for (iterator.Seek(OutboxPrefix); iterator.Valid() && iterator.GetKeySpan().StartsWith(OutboxPrefix); iterator.Next())
        {
            if (BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan()[OutboxPrefix.Length..]) > taken)
            {
                break;
            }
            batch.Delete(iterator.Key(), engine.Meta);
        }
        engine.Write(batch, _written);
        return ValueTask.CompletedTask;
    }

    /// <summary>The last outbox entry written: kept, or taken by every reader (commits are made on one thread).</summary>
    private long LastOutbox()
    {
        if (_lastOutbox < 0)
        {
            using var iterator = engine.Db.NewIterator(engine.Meta);
            iterator.SeekForPrev(OutboxKey(long.MaxValue));
            var kept = iterator.Valid() && iterator.GetKeySpan().StartsWith(OutboxPrefix) ? BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan()[OutboxPrefix.Length..]) : -1;
            _lastOutbox = Math.Max(kept, _readers.Max(ReadThrough));
        }
        return _lastOutbox;
    }

    /// <summary>The last outbox entry <paramref name="reader"/> acknowledged; -1 before its first.</summary>
    /// <exception cref="ArgumentException">The store was not opened with this reader.</exception>
    private long ReadThrough(string reader) =>
        !_readers.Contains(reader) ? throw new ArgumentException($"'{reader}' is not a reader of this outbox", nameof(reader))
        : engine.Db.Get(ReadKey(reader), engine.Meta) is { } bytes ? BinaryPrimitives.ReadInt64BigEndian(bytes) : -1;

    private static byte[] ReadKey(string reader) => Encoding.UTF8.GetBytes(ReadPrefix + reader);

    private static byte[] OutboxKey(long checkpoint)
    {
        var key = new byte[OutboxPrefix.Length + 8];
        OutboxPrefix.CopyTo(key, 0);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(OutboxPrefix.Length), Math.Max(checkpoint, 0));
        return key;
    }

    public ValueTask<AlertPage> QueryAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        var alerts = new List<Alert>(Math.Min(query.Limit, 1024));
        using var iterator = engine.Db.NewIterator(engine.Alerts);
        if (query.AfterId is null)
        {
            iterator.SeekToLast();
        }
        else
        {
            iterator.SeekForPrev(Encoding.ASCII.GetBytes(query.AfterId));
            if (iterator.Valid() && iterator.GetKeySpan().SequenceEqual(Encoding.ASCII.GetBytes(query.AfterId)))
            {
                iterator.Prev();
            }
        }
        var examined = 0;
        var filtersHeaderOnly = query.SourceIP is null && (query.Rule is not null || query.Level is not null || query.FromMs is not null || query.ToMs is not null);
        for (; iterator.Valid(); iterator.Prev())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (examined == query.MaxExamined)
            {
                // A filter that matches little stops here: the next page goes on below the last alert read.
                iterator.Next();
                return ValueTask.FromResult(new AlertPage(alerts, Encoding.ASCII.GetString(iterator.GetKeySpan())));
            }
            examined++;
            // Filters read the alert without its events, unless they are what is filtered on; an
            // unfiltered page reads each alert once, whole.
            if (filtersHeaderOnly && !Wanted(JsonSerializer.Deserialize<AlertHeader>(iterator.GetValueSpan(), Json)!, query))
            {
                continue;
            }
            var alert = JsonSerializer.Deserialize<Alert>(iterator.GetValueSpan(), Json)!;
            if (query.SourceIP is not null && (!alert.Events.Any(e => e.SourceIP == query.SourceIP) || !Wanted(AlertHeader.Of(alert), query)))
            {
                continue;
            }
            if (alerts.Count == query.Limit)
            {
                return ValueTask.FromResult(new AlertPage(alerts, alerts[^1].Id));
            }
            alerts.Add(alert);
        }
        return ValueTask.FromResult(new AlertPage(alerts, null));
    }

    /// <summary>The fields of a stored alert that filters look at, read without its events.</summary>
    private sealed record AlertHeader(string RuleId, string Title, string Level, string FirstSeen, string LastSeen)
    {
        public static AlertHeader Of(Alert alert) => new(alert.RuleId, alert.Title, alert.Level, alert.FirstSeen, alert.LastSeen);
    }

    private static bool Wanted(AlertHeader alert, AlertQuery query)
    {
        if (query.Rule is not null && alert.RuleId != query.Rule && alert.Title != query.Rule)
        {
            return false;
        }
        if (query.Level is not null && alert.Level != query.Level)
        {
            return false;
        }
        var last = Timestamps.ParseCanonical(alert.LastSeen);
        var first = Timestamps.ParseCanonical(alert.FirstSeen);
        // An alert is in [from, to) when its span of events overlaps the range.
        return (query.FromMs is not { } from || last >= from) && (query.ToMs is not { } to || first < to);
    }

    public ValueTask<Alert?> GetAsync(string id, CancellationToken cancellationToken) => ValueTask.FromResult(Ulid.TryParse(id, out _) ? Load(id) : null);

    private Alert? Load(string id) =>
        engine.Db.Get(Encoding.ASCII.GetBytes(id), engine.Alerts) is { } bytes ? JsonSerializer.Deserialize<Alert>(bytes, Json) : null;
}
