using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Hydrant.Detection.Alerts;

namespace Hydrant.Detection.Correlation;

/// <summary>
/// A correlation group's state as the detector commits it, in a compact binary form, in pieces: the
/// group (its definition, values and judged windows) and each hit on its own, so a batch writes only
/// the hits it added, reported or removed, never a whole group again (a group of thousands of hits
/// written on every batch that touched it cost more than the rules). Little-endian; strings are a
/// 32-bit byte length (-1 for null) and UTF-8.
/// </summary>
internal static class GroupCodec
{
    private const byte GroupVersion = 2;
    private const byte HitVersion = 1;

    public sealed record Group(string Definition, string[] Values, IReadOnlyList<long> Judged);

    /// <summary>The group without its hits: version, definition, values, judged window starts.</summary>
    public static byte[] Encode(string definition, GroupWindow group)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        Byte(buffer, GroupVersion);
        Text(buffer, definition);
        Int(buffer, group.Values.Length);
        foreach (var value in group.Values)
        {
            Text(buffer, value);
        }
        Int(buffer, group.Judged.Count);
        foreach (var start in group.Judged)
        {
            Long(buffer, start);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One hit: version, time, horizon, rule, number, value, and its event until reported.</summary>
    public static byte[] Encode(Hit hit)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        Byte(buffer, HitVersion);
        Long(buffer, hit.Ms);
        Long(buffer, hit.Horizon);
        Int(buffer, hit.Member);
        Long(buffer, BitConverter.DoubleToInt64Bits(hit.Number));
        Text(buffer, hit.Value);
        Byte(buffer, hit.Event is null ? (byte)0 : (byte)1);
        if (hit.Event is { } e)
        {
            Text(buffer, e.Id);
            Text(buffer, e.Timestamp);
            Text(buffer, e.EventType);
            Text(buffer, e.SourceIP);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Null when the bytes are not a group of this form (a group an earlier build saved whole, as JSON).</summary>
    public static Group? DecodeGroup(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty || bytes[0] != GroupVersion)
        {
            return null;
        }
        var at = 1;
        var definition = Text(bytes, ref at)!;
        var values = new string[Int(bytes, ref at)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Text(bytes, ref at)!;
        }
        var judged = new long[Int(bytes, ref at)];
        for (var i = 0; i < judged.Length; i++)
        {
            judged[i] = Long(bytes, ref at);
        }
        return new Group(definition, values, judged);
    }

    public static Hit? DecodeHit(ReadOnlySpan<byte> bytes, long serial)
    {
        if (bytes.IsEmpty || bytes[0] != HitVersion)
        {
            return null;
        }
        var at = 1;
        var ms = Long(bytes, ref at);
        var horizon = Long(bytes, ref at);
        var member = Int(bytes, ref at);
        var number = BitConverter.Int64BitsToDouble(Long(bytes, ref at));
        var value = Text(bytes, ref at);
        AlertEvent? e = null;
        if (bytes[at++] == 1)
        {
            e = new AlertEvent(Text(bytes, ref at)!, Text(bytes, ref at)!, Text(bytes, ref at)!, Text(bytes, ref at)!);
        }
        return new Hit(ms, member, value, number, e, horizon, serial);
    }

    private static void Byte(ArrayBufferWriter<byte> buffer, byte value)
    {
        buffer.GetSpan(1)[0] = value;
        buffer.Advance(1);
    }

    private static void Int(ArrayBufferWriter<byte> buffer, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
    }

    private static void Long(ArrayBufferWriter<byte> buffer, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
    }

    private static void Text(ArrayBufferWriter<byte> buffer, string? text)
    {
        if (text is null)
        {
            Int(buffer, -1);
            return;
        }
        var span = buffer.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, written);
        buffer.Advance(4 + written);
    }

    private static int Int(ReadOnlySpan<byte> bytes, ref int at)
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
        at += 4;
        return value;
    }

    private static long Long(ReadOnlySpan<byte> bytes, ref int at)
    {
        var value = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
        at += 8;
        return value;
    }

    private static string? Text(ReadOnlySpan<byte> bytes, ref int at)
    {
        var length = Int(bytes, ref at);
        if (length < 0)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(bytes.Slice(at, length));
        at += length;
        return text;
    }
}
