using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Hydrant.Events;
using Hydrant.Keys;
using Hydrant.Storage;
using Microsoft.Extensions.Logging;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// The spool on RocksDB with group commit: appends from concurrent requests queue up, and one
/// writer thread turns everything queued into a single synced WriteBatch. In embedded mode the
/// same batch also writes the store keys (main, hot copy, source index, id), so an acknowledged
/// event is both spooled and queryable, atomically.
/// </summary>
internal sealed class RocksDbIngestLog : IIngestLog, IDisposable
{
    private static readonly byte[] SpoolHeadKey = "spool/next"u8.ToArray();

    private readonly RocksDbEngine _engine;
    private readonly StoreOptions _options;
    private readonly IngestStats _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _writeStoreKeys;
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private readonly ConcurrentDictionary<string, long> _consumers = new(StringComparer.Ordinal);
    private readonly Thread _writer;
    private TaskCompletionSource _appended = NewSignal();
    private long _nextSequence;
    private long _trimmedTo;

    public RocksDbIngestLog(RocksDbEngine engine, StoreOptions options, IngestStats stats, TimeProvider time, ILogger<RocksDbIngestLog> logger, bool writeStoreKeys)
    {
        _engine = engine;
        _options = options;
        _stats = stats;
        _time = time;
        _logger = logger;
        _writeStoreKeys = writeStoreKeys;
        var head = engine.Db.Get(SpoolHeadKey, engine.Meta);
        _nextSequence = head is null ? 0 : BinaryPrimitives.ReadInt64BigEndian(head);
        _trimmedTo = FirstSpooledSequence() ?? _nextSequence;
        stats.ObserveSpoolDepth(() => Depth);
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "hydrant-group-commit" };
        _writer.Start();
    }

    public long NextSequence => Interlocked.Read(ref _nextSequence);

    public long Depth
    {
        get
        {
            if (_consumers.IsEmpty)
            {
                return 0;
            }
            var slowest = _consumers.Values.Min();
            return Math.Max(0, NextSequence - slowest);
        }
    }

    public ValueTask<AppendResult> AppendAsync(IReadOnlyList<SecurityEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return ValueTask.FromResult(new AppendResult(0, 0));
        }
        var pending = new PendingAppend(events);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        // The write is not cancelled with the request: once queued it commits, and the caller may
        // only stop waiting for the answer.
        return new ValueTask<AppendResult>(pending.Completion.Task.WaitAsync(cancellationToken));
    }

    public IReadOnlyList<SpoolEntry> Read(long fromSequence, int max)
    {
        var entries = new List<SpoolEntry>(Math.Min(max, 1024));
        var start = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(start, Math.Max(fromSequence, 0));
        using var iterator = _engine.Db.NewIterator(_engine.Spool);
        for (iterator.Seek(start); iterator.Valid() && entries.Count < max; iterator.Next())
        {
            var sequence = BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan());
            entries.Add(new SpoolEntry(sequence, iterator.Value()));
        }
        return entries;
    }

    public void RegisterConsumer(string name, long position) => _consumers[name] = position;

    public void ReportProgress(string name, long position) => _consumers[name] = position;

    public async Task WaitForEntriesAsync(long sequence, CancellationToken cancellationToken)
    {
        while (NextSequence <= sequence)
        {
            var signal = Volatile.Read(ref _appended);
            if (NextSequence > sequence)
            {
                return;
            }
            await signal.Task.WaitAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer.Join();
    }

    private void WriteLoop()
    {
        var reader = _queue.Reader;
        var group = new List<PendingAppend>();
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            var bytes = 0L;
            while (bytes < _options.MaxCommitBytes && reader.TryRead(out var pending))
            {
                group.Add(pending);
                foreach (var e in pending.Events)
                {
                    bytes += e.Json.Length;
                }
            }
            try
            {
                Commit(group);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Group commit of {Requests} requests failed; they are answered with an error", group.Count);
                foreach (var pending in group)
                {
                    pending.Completion.TrySetException(e);
                }
            }
            group.Clear();
        }
    }

    private void Commit(List<PendingAppend> group)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var hotCutoff = nowMs - (long)StoreOptions.HotWindow.TotalMilliseconds;
        using var batch = new WriteBatch();
        var idsInBatch = new HashSet<string>(StringComparer.Ordinal);
        var sequence = NextSequence;
        var results = new AppendResult[group.Count];
        var shards = new List<int>();
        long bytes = 0;
        Span<byte> spoolKey = stackalloc byte[8];

        for (var g = 0; g < group.Count; g++)
        {
            int stored = 0, duplicates = 0;
            foreach (var e in group[g].Events)
            {
                var month = EventKeys.Month(e.TimestampMs);
                byte[]? idKey = null;
                if (e.IdFromClient)
                {
                    var idText = string.Concat(month, "#", e.Id);
                    idKey = Encoding.UTF8.GetBytes(idText);
                    if (!idsInBatch.Add(idText) || _engine.Db.HasKey(idKey, _engine.Ids))
                    {
                        duplicates++;
                        continue;
                    }
                }

                BinaryPrimitives.WriteInt64BigEndian(spoolKey, sequence++);
                batch.Put(spoolKey, e.Json.Span, _engine.Spool);

                if (_writeStoreKeys)
                {
                    var hash = SourceShard.Hash(e.SourceIP);
                    var shard = SourceShard.Main(hash);
                    var sortKey = EventKeys.SortKey(e.TimestampMs, e.EventType, e.Id);
                    var mainKey = EventKeys.Join(EventKeys.MainPartition(e.TimestampMs, shard), sortKey);
                    batch.Put(mainKey, e.Json.Span, _engine.Main);
                    batch.Put(EventKeys.Join(EventKeys.SourcePartition(e.TimestampMs, e.SourceIP), sortKey), mainKey, _engine.Source);
                    if (e.TimestampMs >= hotCutoff)
                    {
                        batch.Put(EventKeys.Join(EventKeys.HotPartition(e.TimestampMs, SourceShard.Hot(hash)), sortKey), mainKey, _engine.Hot);
                    }
                    if (idKey is not null)
                    {
                        batch.Put(idKey, mainKey, _engine.Ids);
                    }
                    shards.Add(shard);
                }
                bytes += e.Json.Length;
                stored++;
            }
            results[g] = new AppendResult(stored, duplicates);
        }

        var head = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(head, sequence);
        batch.Put(SpoolHeadKey, head, _engine.Meta);
        var trimTo = _consumers.IsEmpty ? sequence : Math.Min(_consumers.Values.Min(), sequence);
        if (trimTo > _trimmedTo)
        {
            var from = new byte[8];
            var to = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(from, _trimmedTo);
            BinaryPrimitives.WriteInt64BigEndian(to, trimTo);
            batch.DeleteRange(from, (ulong)from.Length, to, (ulong)to.Length, _engine.Spool);
        }

        _engine.Db.Write(batch, _synced);

        _trimmedTo = Math.Max(_trimmedTo, trimTo);
        Interlocked.Exchange(ref _nextSequence, sequence);
        Interlocked.Exchange(ref _appended, NewSignal()).TrySetResult();
        _stats.RecordCommit(bytes);
        foreach (var shard in shards)
        {
            _stats.RecordShardWrite(shard);
        }
        for (var g = 0; g < group.Count; g++)
        {
            group[g].Completion.TrySetResult(results[g]);
        }
    }

    private long? FirstSpooledSequence()
    {
        using var iterator = _engine.Db.NewIterator(_engine.Spool);
        iterator.SeekToFirst();
        return iterator.Valid() ? BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan()) : null;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class PendingAppend(IReadOnlyList<SecurityEvent> events)
    {
        public IReadOnlyList<SecurityEvent> Events { get; } = events;

        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
