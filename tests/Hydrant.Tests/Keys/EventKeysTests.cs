using System.Text;
using Hydrant.Events;
using Hydrant.Keys;

namespace Hydrant.Tests.Keys;

public sealed class EventKeysTests
{
    // Vectors computed outside .NET with xxhsum -H3 (Debian package xxhash); docs/keys.md lists them too.
    [Theory]
    [InlineData("", 0x2D06800538D394C2UL)]
    [InlineData("10.0.0.1", 0xB61D99F8E56B6646UL)]
    [InlineData("192.168.1.10", 0xF38C806EA6D6E7FDUL)]
    [InlineData("2001:db8::1", 0x039294A7A3FF634BUL)]
    [InlineData("203.0.113.9", 0x8525F63A08B268D6UL)]
    [InlineData("ec2.amazonaws.com", 0xA48CACD2D84304E0UL)]
    public void Source_hash_is_xxh3_64_of_the_normalized_text(string source, ulong expected)
    {
        Assert.Equal(expected, SourceShard.Hash(source));
    }

    [Theory]
    [InlineData("10.0.0.1", 10, 10)]
    [InlineData("192.168.1.10", 25, 25)]
    [InlineData("2001:db8::1", 71, 21)]
    [InlineData("203.0.113.9", 98, 48)]
    [InlineData("ec2.amazonaws.com", 92, 42)]
    public void Shards_are_the_hash_modulo_100_and_50(string source, int main, int hot)
    {
        var hash = SourceShard.Hash(source);
        Assert.Equal(main, SourceShard.Main(hash));
        Assert.Equal(hot, SourceShard.Hot(hash));
    }

    [Fact]
    public void Key_formats_follow_the_design()
    {
        var ts = new DateTimeOffset(2026, 3, 5, 7, 8, 9, 10, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.Equal("security-events#2026-03#42", EventKeys.MainPartition(ts, 42));
        Assert.Equal("security-events#hot#2026-03-05#7", EventKeys.HotPartition(ts, 7));
        Assert.Equal("src#2026-03#10.0.0.1", EventKeys.SourcePartition(ts, "10.0.0.1"));
        Assert.Equal("2026-03-05T07:08:09.010Z#auth.failure#01JABC", EventKeys.SortKey(ts, "auth.failure", "01JABC"));
    }

    [Fact]
    public void Two_events_of_one_millisecond_and_type_get_distinct_sort_keys()
    {
        Assert.NotEqual(EventKeys.SortKey(1, "a", "id-1"), EventKeys.SortKey(1, "a", "id-2"));
    }

    [Fact]
    public void Sort_keys_order_as_time_and_bounds_split_at_the_millisecond()
    {
        var early = EventKeys.SortKey(999, "zzz", "z");
        var late = EventKeys.SortKey(1000, "a", "a");
        Assert.True(string.CompareOrdinal(early, late) < 0);
        Assert.True(string.CompareOrdinal(late, EventKeys.SortKeyBound(1000)) >= 0);
        Assert.True(string.CompareOrdinal(early, EventKeys.SortKeyBound(1000)) < 0);
    }

    [Fact]
    public void Joined_keys_keep_partitions_contiguous()
    {
        var a = EventKeys.Join("security-events#2026-03#5", "2026-03-31T23:59:59.999Z#x#1");
        var b = EventKeys.Join("security-events#2026-03#50", "2026-03-01T00:00:00.000Z#x#1");
        Assert.True(a.AsSpan().SequenceCompareTo(b) < 0);
        Assert.Equal("security-events#2026-03#5\02026-03-31T23:59:59.999Z#x#1", Encoding.UTF8.GetString(a));
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00.000Z")]
    [InlineData(1764000000123L, "2025-11-24T16:00:00.123Z")]
    [InlineData(Timestamps.MaxEpochMs, "9999-12-31T23:59:59.999Z")]
    public void Timestamps_are_fixed_width_utc_milliseconds(long ms, string text)
    {
        Assert.Equal(text, Timestamps.ToText(ms));
        Assert.True(Timestamps.TryParse(text, out var back));
        Assert.Equal(ms, back);
    }
}

public sealed class KeyWriterTests
{
    [Theory]
    [InlineData(0L, "10.0.0.1", "auth.failure", "id-1")]
    [InlineData(1764000000123L, "2001:db8::1", "t\u00e9st#x", "01JDQ8Z6P4J9K3M2N1B0V9C8X7")]
    [InlineData(Timestamps.MaxEpochMs, "ec2.amazonaws.com", "a", "b")]
    public void Byte_keys_equal_the_joined_text_keys(long ts, string source, string type, string id)
    {
        var hash = SourceShard.Hash(source);
        var sortKey = EventKeys.SortKey(ts, type, id);
        Span<byte> buffer = stackalloc byte[EventKeys.MaxKeyBytes];

        var n = EventKeys.WriteMainKey(buffer, ts, SourceShard.Main(hash), type, id);
        Assert.Equal(EventKeys.Join(EventKeys.MainPartition(ts, SourceShard.Main(hash)), sortKey), buffer[..n].ToArray());
        n = EventKeys.WriteHotKey(buffer, ts, SourceShard.Hot(hash), type, id);
        Assert.Equal(EventKeys.Join(EventKeys.HotPartition(ts, SourceShard.Hot(hash)), sortKey), buffer[..n].ToArray());
        n = EventKeys.WriteSourceKey(buffer, ts, source, type, id);
        Assert.Equal(EventKeys.Join(EventKeys.SourcePartition(ts, source), sortKey), buffer[..n].ToArray());
        n = EventKeys.WriteIdKey(buffer, ts, id);
        Assert.Equal(EventKeys.Month(ts) + "#" + id, Encoding.UTF8.GetString(buffer[..n]));
    }
}
