using System.Globalization;
using System.Text;
using Hydrant.Events;

namespace Hydrant.Keys;

/// <summary>
/// The key scheme of docs/keys.md. Partition keys and sort keys are plain text; backends that have
/// a single key space (RocksDB) join them with <see cref="Separator"/>, which sorts below every
/// printable character so a partition's items are one contiguous range.
/// </summary>
public static class EventKeys
{
    public const string Table = "security-events";
    public const byte Separator = 0x00;

    public static string MainPartition(long timestampMs, int shard) =>
        string.Create(CultureInfo.InvariantCulture, $"{Table}#{Month(timestampMs)}#{shard}");

    public static string HotPartition(long timestampMs, int hotShard) =>
        string.Create(CultureInfo.InvariantCulture, $"{Table}#hot#{Day(timestampMs)}#{hotShard}");

    /// <summary>
    /// The source index partition: one per source and month, so retention drops it with its month
    /// and no single index partition grows without bound.
    /// </summary>
    public static string SourcePartition(long timestampMs, string normalizedSource) =>
        string.Concat("src#", Month(timestampMs), "#", normalizedSource);

    /// <summary>{timestamp}#{eventType}#{eventId}: the id on the end keeps two events of one millisecond and type apart.</summary>
    public static string SortKey(long timestampMs, string eventType, string eventId) =>
        string.Concat(Timestamps.ToText(timestampMs), "#", eventType, "#", eventId);

    /// <summary>The smallest sort key at or after this instant: a range bound for [from, to) scans.</summary>
    public static string SortKeyBound(long timestampMs) => Timestamps.ToText(timestampMs);

    public static string Month(long timestampMs) =>
        DateTime.UnixEpoch.AddMilliseconds(timestampMs).ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>The months (yyyy-MM) that [fromMs, toMs) touches, newest first.</summary>
    public static IEnumerable<string> MonthsNewestFirst(long fromMs, long toMs)
    {
        var first = DateTime.UnixEpoch.AddMilliseconds(fromMs);
        var month = DateTime.UnixEpoch.AddMilliseconds(Math.Max(fromMs, toMs - 1));
        for (month = new DateTime(month.Year, month.Month, 1, 0, 0, 0, DateTimeKind.Utc); month >= new DateTime(first.Year, first.Month, 1, 0, 0, 0, DateTimeKind.Utc); month = month.AddMonths(-1))
        {
            yield return month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        }
    }

    public static string Day(long timestampMs) =>
        DateTime.UnixEpoch.AddMilliseconds(timestampMs).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>More bytes than any joined key can take: partition, separator, sort key, each field at most 128 characters.</summary>
    public const int MaxKeyBytes = 2048;

    /// <summary>main partition 0x00 sort key, as bytes; equal to <c>Join(MainPartition(..), SortKey(..))</c>.</summary>
    public static int WriteMainKey(Span<byte> destination, long timestampMs, int shard, string eventType, string eventId) =>
        WriteShardKey(destination, "security-events#"u8, byDay: false, timestampMs, shard, eventType, eventId);

    /// <summary>hot partition 0x00 sort key, as bytes.</summary>
    public static int WriteHotKey(Span<byte> destination, long timestampMs, int hotShard, string eventType, string eventId) =>
        WriteShardKey(destination, "security-events#hot#"u8, byDay: true, timestampMs, hotShard, eventType, eventId);

    private static int WriteShardKey(Span<byte> destination, ReadOnlySpan<byte> prefix, bool byDay, long timestampMs, int shard, string eventType, string eventId)
    {
        var time = DateTime.UnixEpoch.AddMilliseconds(timestampMs);
        var key = new KeyWriter(destination);
        key.Append(prefix);
        if (byDay)
        {
            key.AppendDay(time);
        }
        else
        {
            key.AppendMonth(time);
        }
        key.Append((byte)'#');
        key.AppendNumber(shard);
        AppendSortKey(ref key, time, eventType, eventId);
        return key.Length;
    }

    /// <summary>source partition 0x00 sort key, as bytes.</summary>
    public static int WriteSourceKey(Span<byte> destination, long timestampMs, string normalizedSource, string eventType, string eventId)
    {
        var time = DateTime.UnixEpoch.AddMilliseconds(timestampMs);
        var key = new KeyWriter(destination);
        key.Append("src#"u8);
        key.AppendMonth(time);
        key.Append((byte)'#');
        key.Append(normalizedSource);
        AppendSortKey(ref key, time, eventType, eventId);
        return key.Length;
    }

    /// <summary>The idempotency key {yyyy-MM}#{eventId}: ids are unique within their event's month.</summary>
    public static int WriteIdKey(Span<byte> destination, long timestampMs, string eventId)
    {
        var key = new KeyWriter(destination);
        key.AppendMonth(DateTime.UnixEpoch.AddMilliseconds(timestampMs));
        key.Append((byte)'#');
        key.Append(eventId);
        return key.Length;
    }

    private static void AppendSortKey(ref KeyWriter key, DateTime time, string eventType, string eventId)
    {
        key.Append(Separator);
        key.AppendTimestamp(time);
        key.Append((byte)'#');
        key.Append(eventType);
        key.Append((byte)'#');
        key.Append(eventId);
    }

    /// <summary>Writes partition, separator and sort key as one UTF-8 key.</summary>
    public static byte[] Join(string partition, string sortKey)
    {
        var key = new byte[Encoding.UTF8.GetByteCount(partition) + 1 + Encoding.UTF8.GetByteCount(sortKey)];
        var written = Encoding.UTF8.GetBytes(partition, key);
        key[written] = Separator;
        Encoding.UTF8.GetBytes(sortKey, key.AsSpan(written + 1));
        return key;
    }
}
