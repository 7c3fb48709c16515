using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Hydrant.Spool;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// Dead letters in the meta family under <c>deadletter/{consumer}/{sequence, 8 bytes big-endian}</c>,
/// written synced: the value is the time (8 bytes), the reason's length (4 bytes), the reason
/// (UTF-8) and the event's bytes. Counts are read once at open and kept in memory.
/// </summary>
internal sealed class RocksDbDeadLetters : IDeadLetterStore
{
    private static readonly byte[] Prefix = "deadletter/"u8.ToArray();
    private readonly RocksDbEngine _engine;
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public RocksDbDeadLetters(RocksDbEngine engine)
    {
        _engine = engine;
        foreach (var letter in Scan(consumer: null, before: null, limit: int.MaxValue, withEvent: false))
        {
            _counts.AddOrUpdate(letter.Consumer, 1, (_, n) => n + 1);
        }
    }

    public void SetAside(DeadLetter letter)
    {
        var key = Key(letter.Consumer, letter.Sequence);
        var reason = Encoding.UTF8.GetBytes(letter.Reason);
        var value = new byte[12 + reason.Length + letter.Event.Length];
        BinaryPrimitives.WriteInt64BigEndian(value, letter.AtMs);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(8), reason.Length);
        reason.CopyTo(value, 12);
        letter.Event.Span.CopyTo(value.AsSpan(12 + reason.Length));
        var existed = _engine.Db.Get(key, _engine.Meta) is not null;
        _engine.Put(key, value, _engine.Meta, _synced);
        if (!existed)
        {
            _counts.AddOrUpdate(letter.Consumer, 1, (_, n) => n + 1);
        }
    }

    public IReadOnlyList<DeadLetter> List(string? consumer, long? before, int limit) =>
        [.. Scan(consumer, before, limit, withEvent: true)];

    public IReadOnlyDictionary<string, long> Counts() => new Dictionary<string, long>(_counts, StringComparer.Ordinal);

    /// <summary>Newest first across consumers (merged by sequence), each consumer's keys read backwards.</summary>
    private IEnumerable<DeadLetter> Scan(string? consumer, long? before, int limit, bool withEvent)
    {
        var found = new List<DeadLetter>();
        if (before is <= 0)
        {
            return found;
        }
        foreach (var name in consumer is null ? Consumers() : [consumer])
        {
            var start = Key(name, 0);
            using var iterator = _engine.Db.NewIterator(_engine.Meta);
            iterator.SeekForPrev(Key(name, before is { } b ? b - 1 : long.MaxValue));
            var taken = 0;
            for (; iterator.Valid() && taken < limit; iterator.Prev(), taken++)
            {
                var key = iterator.GetKeySpan();
                if (!key.StartsWith(start.AsSpan(0, start.Length - 8)) || key.Length != start.Length)
                {
                    break;
                }
                var value = iterator.GetValueSpan();
                var reasonLength = BinaryPrimitives.ReadInt32BigEndian(value[8..]);
                found.Add(new DeadLetter(name, BinaryPrimitives.ReadInt64BigEndian(key[^8..]), BinaryPrimitives.ReadInt64BigEndian(value),
                    Encoding.UTF8.GetString(value.Slice(12, reasonLength)), withEvent ? value[(12 + reasonLength)..].ToArray() : ReadOnlyMemory<byte>.Empty));
            }
        }
        return found.OrderByDescending(l => l.Sequence).ThenBy(l => l.Consumer, StringComparer.Ordinal).Take(limit);
    }

    /// <summary>The consumers that have dead letters: one seek past each name.</summary>
    private List<string> Consumers()
    {
        var names = new List<string>();
        using var iterator = _engine.Db.NewIterator(_engine.Meta);
        iterator.Seek(Prefix);
        while (iterator.Valid() && iterator.GetKeySpan().StartsWith(Prefix))
        {
            var rest = iterator.GetKeySpan()[Prefix.Length..];
            var slash = rest.IndexOf((byte)'/');
            if (slash < 0)
            {
                break;
            }
            var name = Encoding.UTF8.GetString(rest[..slash]);
            names.Add(name);
            // Past every key of this consumer: its prefix followed by a byte above '/'.
            iterator.Seek([.. Prefix, .. Encoding.UTF8.GetBytes(name), (byte)('/' + 1)]);
        }
        return names;
    }

    private static byte[] Key(string consumer, long sequence)
    {
        var name = Encoding.UTF8.GetBytes(consumer);
        var key = new byte[Prefix.Length + name.Length + 1 + 8];
        Prefix.CopyTo(key, 0);
        name.CopyTo(key, Prefix.Length);
        key[Prefix.Length + name.Length] = (byte)'/';
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(key.Length - 8), sequence);
        return key;
    }
}
