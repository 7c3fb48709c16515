using System.Text;
using System.Text.Json;
using Hydrant.Keys;
using Hydrant.Query;
using Hydrant.Storage;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// Reads the embedded store. Every partition is a contiguous key range (partition key, 0x00, sort
/// key), read backwards between the query's bounds; partitions of one time bucket are merged
/// newest first, and older buckets are opened only while the page is not full. Hot items point
/// at the main item, which holds the event; a source item holds nothing, its main key being its
/// own (month from its partition, shard from its source's hash, the same sort key).
/// </summary>
internal sealed class RocksDbEventStore(RocksDbEngine engine) : IEventStore
{
    private const string HotPrefix = EventKeys.Table + "#hot#";
    private const string MainPrefix = EventKeys.Table + "#";

    public ValueTask<EventPage> QueryAsync(EventQuery query, QueryPlan plan, CancellationToken cancellationToken)
    {
        var family = plan.Index switch
        {
            PlanIndex.Source => engine.Source,
            PlanIndex.Hot => engine.Hot,
            _ => engine.Main,
        };
        var lower = Encoding.UTF8.GetBytes(EventKeys.SortKeyBound(query.FromMs));
        var upperText = EventKeys.SortKeyBound(query.ToMs);
        if (query.AfterSortKey is not null && string.CompareOrdinal(query.AfterSortKey, upperText) < 0)
        {
            upperText = query.AfterSortKey;
        }
        var upper = Encoding.UTF8.GetBytes(upperText);
        var typeFilter = query.EventType is null ? null : Encoding.UTF8.GetBytes(query.EventType + "#");

        var events = new List<ReadOnlyMemory<byte>>(Math.Min(query.Limit, 1024));
        long itemsRead = 0;
        var partitionsRead = 0;
        string? lastReturned = null;

        foreach (var group in plan.PartitionGroups)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var heap = new PriorityQueue<PartitionReader, byte[]>(NewestFirst.Instance);
            var readers = new List<PartitionReader>(group.Count);
            try
            {
                foreach (var partition in group)
                {
                    var reader = new PartitionReader(engine.Db, family, partition, lower, upper, plan.Index == PlanIndex.Source ? MainPrefixOfSource(partition) : null);
                    readers.Add(reader);
                    partitionsRead++;
                    if (reader.SortKey is { } first)
                    {
                        heap.Enqueue(reader, first);
                    }
                }

                while (heap.TryDequeue(out var reader, out var sortKey))
                {
                    if (events.Count == query.Limit)
                    {
                        // A further item exists, so the page gets a cursor.
                        return ValueTask.FromResult(new EventPage(events, lastReturned, partitionsRead, itemsRead));
                    }
                    itemsRead++;
                    if (Matches(sortKey, typeFilter, query.EventType))
                    {
                        var json = plan.Index switch
                        {
                            PlanIndex.Shards => reader.Value,
                            PlanIndex.Source => engine.Db.Get(reader.MainKey(sortKey), engine.Main),
                            _ => engine.Db.Get(reader.Value, engine.Main),
                        };
                        if (json is not null && (typeFilter is null || EventTypeIs(json, query.EventType!)))
                        {
                            events.Add(json);
                            lastReturned = Encoding.UTF8.GetString(sortKey);
                        }
                    }
                    if (reader.MoveNext() is { } nextKey)
                    {
                        heap.Enqueue(reader, nextKey);
                    }
                }
            }
            finally
            {
                foreach (var reader in readers)
                {
                    reader.Dispose();
                }
            }
        }
        return ValueTask.FromResult(new EventPage(events, null, partitionsRead, itemsRead));
    }

    public ValueTask<ReadOnlyMemory<byte>?> GetAsync(string id, long fromMs, long toMs, CancellationToken cancellationToken)
    {
        foreach (var month in EventKeys.MonthsNewestFirst(fromMs, toMs))
        {
            // The ids family points at the main item (the bloom filter answers most months at once).
            if (engine.Db.Get(Encoding.UTF8.GetBytes(month + "#" + id), engine.Ids) is { } mainKey
                && engine.Db.Get(mainKey, engine.Main) is { } json)
            {
                return ValueTask.FromResult<ReadOnlyMemory<byte>?>(json);
            }
        }
        return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
    }

    public ValueTask<RetentionResult> ApplyRetentionAsync(DateTimeOffset now, TimeSpan retention, CancellationToken cancellationToken)
    {
        // A hot day's last event leaves the 24 h window one day after the day ends.
        var oldestHotDay = EventKeys.Day(now.AddDays(-2).ToUnixTimeMilliseconds());
        var cutoff = now - retention;
        var oldestMonth = EventKeys.Month(new DateTimeOffset(cutoff.Year, cutoff.Month, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());

        var droppedDays = DropBuckets(engine.Hot, HotPrefix, 10, day => string.CompareOrdinal(day, oldestHotDay) <= 0);
        var droppedMonths = DropBuckets(engine.Main, MainPrefix, 7, month => string.CompareOrdinal(month, oldestMonth) < 0);
        foreach (var month in droppedMonths)
        {
            DeleteRange(engine.Source, "src#" + month + "#");
            DeleteRange(engine.Ids, month + "#");
        }
        return ValueTask.FromResult(new RetentionResult(droppedDays, droppedMonths));
    }

    /// <summary>Walks the buckets (days or months) present under a prefix, oldest first, dropping those that qualify.</summary>
    private List<string> DropBuckets(ColumnFamilyHandle family, string prefix, int bucketLength, Func<string, bool> isExpired)
    {
        var dropped = new List<string>();
        var seek = prefix;
        while (true)
        {
            string? bucket = null;
            using (var iterator = engine.Db.NewIterator(family))
            {
                iterator.Seek(Encoding.UTF8.GetBytes(seek));
                if (iterator.Valid())
                {
                    var key = Encoding.UTF8.GetString(iterator.GetKeySpan());
                    if (key.StartsWith(prefix, StringComparison.Ordinal) && key.Length > prefix.Length + bucketLength)
                    {
                        bucket = key.Substring(prefix.Length, bucketLength);
                    }
                }
            }
            if (bucket is null || !isExpired(bucket))
            {
                return dropped;
            }
            DeleteRange(family, prefix + bucket + "#");
            dropped.Add(bucket);
            seek = prefix + bucket + "$"; // '$' follows '#': the first key past this bucket
        }
    }

    private void DeleteRange(ColumnFamilyHandle family, string prefix)
    {
        var from = Encoding.UTF8.GetBytes(prefix);
        var to = Encoding.UTF8.GetBytes(prefix[..^1] + "$");
        using var batch = new WriteBatch();
        batch.DeleteRange(from, (ulong)from.Length, to, (ulong)to.Length, family);
        engine.Write(batch);
        engine.Db.CompactRange(from, to, family);
    }

    private static bool Matches(byte[] sortKey, byte[]? typeFilter, string? eventType) =>
        typeFilter is null || (eventType is not null && sortKey.AsSpan(Events.Timestamps.Width + 1).StartsWith(typeFilter));

    /// <summary>
    /// The sort key alone cannot tell type "a" from a type "a#b"; the canonical JSON settles it
    /// (eventType is its third field, so only a few tokens are read).
    /// </summary>
    private static bool EventTypeIs(byte[] json, string eventType)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("eventType"))
            {
                reader.Read();
                return reader.ValueTextEquals(eventType);
            }
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth > 0)
            {
                reader.Skip();
            }
        }
        return false;
    }

    private sealed class NewestFirst : IComparer<byte[]>
    {
        public static readonly NewestFirst Instance = new();

        public int Compare(byte[]? x, byte[]? y) => y.AsSpan().SequenceCompareTo(x);
    }

    /// <summary>A backwards iterator over one partition between [lower, upper) sort keys.</summary>
    /// <summary>The main partition and separator of a source partition's events: "src#{month}#{source}" to "security-events#{month}#{shard}\0".</summary>
    private static byte[] MainPrefixOfSource(string sourcePartition)
    {
        var month = sourcePartition.Substring(4, 7);
        var source = sourcePartition[12..];
        return Encoding.UTF8.GetBytes(string.Concat(MainPrefix, month, "#", SourceShard.Main(SourceShard.Hash(source)).ToString(System.Globalization.CultureInfo.InvariantCulture), "\0"));
    }

    private sealed class PartitionReader : IDisposable
    {
        private readonly ReadOptions _options;
        private readonly Iterator _iterator;
        private readonly int _prefixLength;
        private readonly byte[]? _mainPrefix;

        public PartitionReader(RocksDbSharp.RocksDb db, ColumnFamilyHandle family, string partition, byte[] lower, byte[] upper, byte[]? mainPrefix = null)
        {
            _mainPrefix = mainPrefix;
            var prefix = Encoding.UTF8.GetBytes(partition + "\0");
            _prefixLength = prefix.Length;
            _options = new ReadOptions()
                .SetIterateLowerBound([.. prefix, .. lower])
                .SetIterateUpperBound([.. prefix, .. upper]);
            _iterator = db.NewIterator(family, _options);
            _iterator.SeekToLast();
            SortKey = Current();
        }

        public byte[]? SortKey { get; private set; }

        public byte[] Value => _iterator.Value();

        /// <summary>For a source partition: the main key of the item with this sort key.</summary>
        public byte[] MainKey(byte[] sortKey) => [.. _mainPrefix!, .. sortKey];

        public byte[]? MoveNext()
        {
            _iterator.Prev();
            SortKey = Current();
            return SortKey;
        }

        public void Dispose()
        {
            _iterator.Dispose();
        }

        private byte[]? Current() => _iterator.Valid() ? _iterator.GetKeySpan()[_prefixLength..].ToArray() : null;
    }
}
