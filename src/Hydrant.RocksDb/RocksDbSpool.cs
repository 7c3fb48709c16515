using System.Buffers.Binary;
using System.Collections.Concurrent;
using Hydrant.Events;
using Hydrant.Keys;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Logging;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// The spool on RocksDB. Each request encodes its keys and builds its own WriteBatch on its own
/// thread, then writes it synced; RocksDB joins the synced writes that arrive together into one
/// WAL write and one fsync (its leader/follower write group), and the group's leader inserts their
/// memtable entries, each family's in key order. That is the group commit: no request waits for
/// more than one fsync, and the fsync cost is shared by everything that arrived meanwhile.
///
/// One batch per request holds each part's writes, each added explicitly: the spool entries, the
/// ids (<see cref="RocksDbIdIndex"/>, which also decides what is a duplicate) and, in embedded
/// mode, the event store's rows (<see cref="RocksDbEventRows"/>); there the spool entry holds only
/// the main row's key, so each event's JSON is written once.
/// </summary>
internal sealed class RocksDbSpool : ISpool
{
    /// <summary>Entries trimmed at once at least: one DeleteRange per few thousand events, not per request.</summary>
    public const int DefaultTrimStep = 4096;
    private static readonly byte[] TrimmedKey = "spool/trimmed"u8.ToArray();

    private readonly RocksDbEngine _engine;
    private readonly IngestStats _stats;
    private readonly TimeProvider _time;
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private readonly WriteOptions _unsynced = new();
    private readonly ConcurrentDictionary<string, long> _consumers = new(StringComparer.Ordinal);
    private readonly RocksDbIdIndex _ids;
    private readonly RocksDbEventRows? _rows;
    private readonly CommitWatermark _watermark;
    private readonly SpoolClaims? _claims;
    private readonly Lock _trimGate = new();
    private readonly int _trimStep;
    private long _trimmedTo;

    public RocksDbSpool(RocksDbEngine engine, IngestStats stats, TimeProvider time, bool writeStoreKeys, int trimStep = DefaultTrimStep,
        IIdClaims? claims = null, ILogger? logger = null, TimeSpan? claimWait = null)
    {
        _trimStep = trimStep;
        _engine = engine;
        _stats = stats;
        _time = time;
        _ids = new RocksDbIdIndex(engine);
        _rows = writeStoreKeys ? new RocksDbEventRows(engine) : null;
        var trimmed = engine.Db.Get(TrimmedKey, engine.Meta) is { } bytes ? BinaryPrimitives.ReadInt64BigEndian(bytes) : 0;
        var (first, last) = SpooledRange();
        _trimmedTo = first ?? trimmed;
        var next = Math.Max(trimmed, (last ?? -1) + 1);
        var left = claims is null ? [] : SpoolClaims.Left(engine);
        // Ranges whose claims a crash interrupted stay out of the consumers' sight until resolved.
        _watermark = new CommitWatermark(left.Count > 0 ? left[0].Start : next);
        if (claims is not null)
        {
            _claims = new SpoolClaims(engine, claims, _watermark, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, claimWait ?? claims.RequestWait);
            var recovered = new List<SpoolClaims.Pending>();
            foreach (var (start, end) in left)
            {
                if (start > _watermark.Allocated)
                {
                    _watermark.Complete(_watermark.Allocate((int)(start - _watermark.Allocated)));
                }
                var range = _watermark.Allocate((int)(end - start));
                recovered.Add(new SpoolClaims.Pending(range, _claims.IdsOf(range)));
            }
            if (next > _watermark.Allocated)
            {
                _watermark.Complete(_watermark.Allocate((int)(next - _watermark.Allocated)));
            }
            _claims.Recover(recovered);
        }
        stats.ObserveSpoolDepth(() => Depth);
    }

    public long NextSequence => _watermark.Committed;

    public long AcceptedSequence => _watermark.Allocated;

    public long FirstSequence => Interlocked.Read(ref _trimmedTo);

    public long Depth
    {
        get
        {
            if (_consumers.IsEmpty)
            {
                return 0;
            }
            // Ranges written and waiting for their claims count: they take room in the spool.
            return Math.Max(0, _watermark.Allocated - _consumers.Values.Min());
        }
    }

    public async ValueTask<AppendResult> AppendAsync(IReadOnlyList<SecurityEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return new AppendResult(0, 0);
        }
        using var keys = new PooledBuffer(events.Count * 320);
        var encoded = new EncodedKeys[events.Count];
        var hotCutoff = _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)StoreOptions.HotWindow.TotalMilliseconds;
        for (var i = 0; i < events.Count; i++)
        {
            encoded[i] = Encode(events[i], keys, hotCutoff, embedded: _rows is not null);
        }

        // Rounds: write every event whose id this request could reserve, release, and only then wait
        // for ids another request holds, so no request ever waits while holding a reservation.
        int stored = 0, duplicates = 0;
        var pending = Enumerable.Range(0, events.Count).ToList();
        var claiming = new List<SpoolClaims.Pending>();
        while (pending.Count > 0)
        {
            var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var reserved = new List<string>();
            var heldElsewhere = new List<(int Index, Task Holder)>();
            var include = new List<int>(pending.Count);
            try
            {
                foreach (var i in pending)
                {
                    switch (_ids.Reserve(encoded[i].Id.Of(keys), written.Task, reserved, out var holder))
                    {
                        case RocksDbIdIndex.Reservation.Store:
                            include.Add(i);
                            break;
                        case RocksDbIdIndex.Reservation.Duplicate:
                            duplicates++;
                            break;
                        default:
                            heldElsewhere.Add((i, holder!));
                            break;
                    }
                }
                if (include.Count > 0)
                {
                    if (Write(events, encoded, keys, include) is { } writtenRange)
                    {
                        claiming.Add(new SpoolClaims.Pending(writtenRange, [.. include.Select(i => new IdClaim(events[i].Id, events[i].TimestampMs, events[i].EventType, events[i].SourceIP))]));
                    }
                    stored += include.Count;
                }
            }
            finally
            {
                _ids.Release(reserved);
                written.TrySetResult();
            }
            await Task.WhenAll(heldElsewhere.Select(h => h.Holder)).WaitAsync(cancellationToken);
            pending = [.. heldElsewhere.Select(h => h.Index)];
        }
        // Ids another node already holds are duplicates: they leave the spool before any consumer sees them.
        foreach (var range in claiming)
        {
            var lost = await _claims!.ResolveAsync(range, cancellationToken);
            stored -= lost;
            duplicates += lost;
        }
        MaybeTrim();
        return new AppendResult(stored, duplicates);
    }

    public IReadOnlyList<SpoolEntry> Read(long fromSequence, int max)
    {
        var committed = NextSequence;
        var entries = new List<SpoolEntry>(Math.Min(max, 1024));
        var start = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(start, Math.Max(fromSequence, 0));
        var pointers = new List<byte[]>();
        using (var iterator = _engine.Db.NewIterator(_engine.Spool))
        {
            for (iterator.Seek(start); iterator.Valid() && entries.Count < max; iterator.Next())
            {
                var sequence = BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan());
                if (sequence >= committed)
                {
                    break;
                }
                var (envelope, payload) = SpoolValue.Split(iterator.Value());
                if (_rows is not null)
                {
                    pointers.Add(payload.ToArray());
                    entries.Add(new SpoolEntry(sequence, ReadOnlyMemory<byte>.Empty, envelope));
                }
                else
                {
                    entries.Add(new SpoolEntry(sequence, payload, envelope));
                }
            }
        }
        if (pointers.Count > 0)
        {
            // Embedded entries point at the main item: one batched lookup for all of them. One
            // dropped by retention meanwhile reads as empty.
            var items = _engine.Db.MultiGet([.. pointers], [.. Enumerable.Repeat(_engine.Main, pointers.Count)], null);
            for (var i = 0; i < entries.Count; i++)
            {
                entries[i] = items[i].Value is { } json ? entries[i] with { Json = json } : entries[i] with { Envelope = null };
            }
        }
        return entries;
    }

    public void RegisterConsumer(string name, long position) => _consumers[name] = position;

    public void ReportProgress(string name, long position)
    {
        _consumers[name] = position;
        MaybeTrim();
    }

    public Task WaitForEntriesAsync(long sequence, CancellationToken cancellationToken) =>
        _watermark.WaitPastAsync(sequence, cancellationToken);

    public void ForgetIdsBefore(DateTimeOffset cutoff) => _ids.ForgetBefore(cutoff);

    /// <summary>Writes the events' range; with shared claims it is returned uncommitted, for its ids to be claimed first.</summary>
    private CommitWatermark.Range? Write(IReadOnlyList<SecurityEvent> events, EncodedKeys[] encoded, PooledBuffer keys, List<int> include)
    {
        var range = _watermark.Allocate(include.Count);
        var committed = false;
        try
        {
            using var batch = new WriteBatch();
            Span<byte> spoolKey = stackalloc byte[8];
            var sequence = range.Start;
            long bytes = 0;
            // The store elsewhere: each entry holds its event and each id points at its entry. Embedded:
            // the entry holds the envelope and the main row's key, and the rows go in the same batch.
            var sequences = _rows is null ? new long[events.Count] : null;
            foreach (var i in include)
            {
                BinaryPrimitives.WriteInt64BigEndian(spoolKey, sequence);
                batch.Put(spoolKey, encoded[i].Spool.Of(keys), _engine.Spool);
                if (sequences is not null)
                {
                    sequences[i] = sequence;
                }
                else
                {
                    bytes += events[i].Json.Length;
                }
                sequence++;
            }
            // Each family's keys go into the batch in key order: a memtable inserts a key next to the
            // one before, from where that one's search ended, where random order walks its skip list
            // from the top every time (the walk is ingest's largest cost, BENCHMARKS.md "Trust").
            if (_rows is { } rows)
            {
                foreach (var i in InKeyOrder(include, encoded, keys, k => k.Main))
                {
                    rows.AddMain(batch, encoded[i].Main.Of(keys), events[i].Json.Span);
                }
                foreach (var i in InKeyOrder(include, encoded, keys, k => k.Source))
                {
                    rows.AddSource(batch, encoded[i].Source.Of(keys));
                }
                foreach (var i in InKeyOrder(include, encoded, keys, k => k.Hot))
                {
                    rows.AddHot(batch, encoded[i].Hot.Of(keys), encoded[i].Main.Of(keys));
                }
                foreach (var i in InKeyOrder(include, encoded, keys, k => k.Id))
                {
                    _ids.Add(batch, encoded[i].Id.Of(keys), encoded[i].Main.Of(keys));
                }
            }
            else
            {
                // The ids stay here, so a re-send to this node is known at once.
                foreach (var i in InKeyOrder(include, encoded, keys, k => k.Id))
                {
                    BinaryPrimitives.WriteInt64BigEndian(spoolKey, sequences![i]);
                    _ids.Add(batch, encoded[i].Id.Of(keys), spoolKey);
                }
            }
            if (_claims is not null)
            {
                SpoolClaims.Mark(batch, range, _engine.Meta);
            }
            _engine.Write(batch, _synced);
            committed = true;

            _stats.RecordCommit(bytes);
            foreach (var i in include)
            {
                _stats.RecordShardWrite(encoded[i].Shard);
            }
        }
        finally
        {
            // A failed write leaves a gap readers step over; a written one waits for its claims, if any.
            if (!committed || _claims is null)
            {
                _watermark.Complete(range);
            }
        }
        return _claims is null ? null : range;
    }

    /// <summary>
    /// The event's keys, and its spool value: the envelope (<see cref="EventEnvelope.Write"/>), so
    /// no consumer reads the JSON for it, then the main row's key (embedded) or the JSON.
    /// </summary>
    private static EncodedKeys Encode(SecurityEvent e, PooledBuffer keys, long hotCutoff, bool embedded)
    {
        var hash = SourceShard.Hash(e.SourceIP);
        var shard = SourceShard.Main(hash);
        var main = Append(keys, EventKeys.WriteMainKey(keys.GetSpan(EventKeys.MaxKeyBytes), e.TimestampMs, shard, e.EventType, e.Id));
        var source = Append(keys, EventKeys.WriteSourceKey(keys.GetSpan(EventKeys.MaxKeyBytes), e.TimestampMs, e.SourceIP, e.EventType, e.Id));
        var hot = e.TimestampMs >= hotCutoff
            ? Append(keys, EventKeys.WriteHotKey(keys.GetSpan(EventKeys.MaxKeyBytes), e.TimestampMs, SourceShard.Hot(hash), e.EventType, e.Id))
            : default;
        var id = Append(keys, EventKeys.WriteIdKey(keys.GetSpan(EventKeys.MaxKeyBytes), e.TimestampMs, e.Id));
        var spoolStart = keys.Length;
        e.Envelope.Write(keys);
        if (embedded)
        {
            // Copied out first: growing the buffer moves what the main key's slice points at.
            Span<byte> mainKey = stackalloc byte[EventKeys.MaxKeyBytes];
            main.Of(keys).CopyTo(mainKey);
            keys.Write(mainKey[..main.Length]);
        }
        else
        {
            keys.Write(e.Json.Span);
        }
        var spool = new Slice(spoolStart, keys.Length - spoolStart);
        return new EncodedKeys { Shard = shard, Main = main, Source = source, Hot = hot, Id = id, Spool = spool };
    }

    /// <summary>The included events' indexes, ordered by the key <paramref name="key"/> picks.</summary>
    private static int[] InKeyOrder(List<int> include, EncodedKeys[] encoded, PooledBuffer keys, Func<EncodedKeys, Slice> key)
    {
        var order = include.ToArray();
        var slices = new Slice[order.Length];
        for (var p = 0; p < order.Length; p++)
        {
            slices[p] = key(encoded[order[p]]);
        }
        Array.Sort(slices, order, new SliceOrder(keys.Memory));
        return order;
    }

    private sealed class SliceOrder(ReadOnlyMemory<byte> keys) : IComparer<Slice>
    {
        public int Compare(Slice x, Slice y)
        {
            var span = keys.Span;
            return span.Slice(x.Offset, x.Length).SequenceCompareTo(span.Slice(y.Offset, y.Length));
        }
    }

    private static Slice Append(PooledBuffer keys, int length)
    {
        var slice = new Slice(keys.Length, length);
        keys.Advance(length);
        return slice;
    }

    /// <summary>Drops spool entries that every consumer has passed (all committed ones when there is none).</summary>
    private void MaybeTrim()
    {
        var committed = NextSequence;
        var limit = _consumers.IsEmpty ? committed : Math.Min(_consumers.Values.Min(), committed);
        if (limit - Interlocked.Read(ref _trimmedTo) < _trimStep || !_trimGate.TryEnter())
        {
            return;
        }
        try
        {
            var from = new byte[8];
            var to = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(from, _trimmedTo);
            BinaryPrimitives.WriteInt64BigEndian(to, limit);
            using var batch = new WriteBatch();
            batch.DeleteRange(from, (ulong)from.Length, to, (ulong)to.Length, _engine.Spool);
            batch.Put(TrimmedKey, to, _engine.Meta);
            // Not synced: a trim lost in a crash is only repeated; it never loses an entry.
            _engine.Write(batch, _unsynced);
            Interlocked.Exchange(ref _trimmedTo, limit);
        }
        finally
        {
            _trimGate.Exit();
        }
    }

    private (long? First, long? Last) SpooledRange()
    {
        using var iterator = _engine.Db.NewIterator(_engine.Spool);
        iterator.SeekToFirst();
        if (!iterator.Valid())
        {
            return (null, null);
        }
        var first = BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan());
        iterator.SeekToLast();
        return (first, BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan()));
    }

    private readonly record struct Slice(int Offset, int Length)
    {
        public ReadOnlySpan<byte> Of(PooledBuffer buffer) => buffer.Span.Slice(Offset, Length);
    }

    private struct EncodedKeys
    {
        public int Shard;
        public Slice Main;
        public Slice Source;
        public Slice Hot;
        public Slice Id;
        public Slice Spool;
    }
}
