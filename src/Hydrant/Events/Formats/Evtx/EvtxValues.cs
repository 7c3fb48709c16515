using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Hydrant.Events.Formats.Evtx;

/// <summary>BinXml values as text, the way Windows renders them in event XML (MS-EVEN6 value types).</summary>
public static class EvtxValues
{
    public static string Text(byte type, ReadOnlySpan<byte> v)
    {
        if ((type & 0x80) != 0)
        {
            return Array((byte)(type & 0x7F), v);
        }
        return type switch
        {
            0x00 => string.Empty,
            0x01 => Encoding.Unicode.GetString(v).TrimEnd('\0'),
            0x02 => Encoding.Latin1.GetString(v).TrimEnd('\0'),
            0x03 when v.Length >= 1 => ((sbyte)v[0]).ToString(CultureInfo.InvariantCulture),
            0x04 when v.Length >= 1 => v[0].ToString(CultureInfo.InvariantCulture),
            0x05 when v.Length >= 2 => BinaryPrimitives.ReadInt16LittleEndian(v).ToString(CultureInfo.InvariantCulture),
            0x06 when v.Length >= 2 => BinaryPrimitives.ReadUInt16LittleEndian(v).ToString(CultureInfo.InvariantCulture),
            0x07 when v.Length >= 4 => BinaryPrimitives.ReadInt32LittleEndian(v).ToString(CultureInfo.InvariantCulture),
            0x08 when v.Length >= 4 => BinaryPrimitives.ReadUInt32LittleEndian(v).ToString(CultureInfo.InvariantCulture),
            0x09 when v.Length >= 8 => BinaryPrimitives.ReadInt64LittleEndian(v).ToString(CultureInfo.InvariantCulture),
            0x0A when v.Length >= 8 => BinaryPrimitives.ReadUInt64LittleEndian(v).ToString(CultureInfo.InvariantCulture),
            0x0B when v.Length >= 4 => BinaryPrimitives.ReadSingleLittleEndian(v).ToString("R", CultureInfo.InvariantCulture),
            0x0C when v.Length >= 8 => BinaryPrimitives.ReadDoubleLittleEndian(v).ToString("R", CultureInfo.InvariantCulture),
            0x0D when v.Length >= 4 => BinaryPrimitives.ReadUInt32LittleEndian(v) != 0 ? "true" : "false",
            0x0E => Convert.ToHexString(v),
            0x0F when v.Length >= 16 => new Guid(v[..16]).ToString("D").ToUpperInvariant(),
            0x10 when v.Length == 4 => "0x" + BinaryPrimitives.ReadUInt32LittleEndian(v).ToString("x", CultureInfo.InvariantCulture),
            0x10 when v.Length >= 8 => "0x" + BinaryPrimitives.ReadUInt64LittleEndian(v).ToString("x", CultureInfo.InvariantCulture),
            0x11 when v.Length >= 8 => FileTime(BinaryPrimitives.ReadInt64LittleEndian(v)),
            0x12 when v.Length >= 16 => SystemTime(v),
            0x13 => Sid(v),
            0x14 when v.Length >= 4 => "0x" + BinaryPrimitives.ReadUInt32LittleEndian(v).ToString("x", CultureInfo.InvariantCulture),
            0x15 when v.Length >= 8 => "0x" + BinaryPrimitives.ReadUInt64LittleEndian(v).ToString("x", CultureInfo.InvariantCulture),
            _ => Convert.ToHexString(v),
        };
    }

    /// <summary>FILETIME as RFC 3339 UTC with microseconds, as event XML shows SystemTime.</summary>
    public static string FileTime(long fileTime)
    {
        if (fileTime < 0 || fileTime > DateTime.MaxValue.ToFileTimeUtc())
        {
            return string.Empty;
        }
        return DateTime.FromFileTimeUtc(fileTime).ToString("yyyy-MM-ddTHH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }

    private static string SystemTime(ReadOnlySpan<byte> v)
    {
        Span<int> part = stackalloc int[8];
        for (var i = 0; i < 8; i++)
        {
            part[i] = BinaryPrimitives.ReadUInt16LittleEndian(v[(i * 2)..]);
        }
        try
        {
            return new DateTime(part[0], part[1], part[3], part[4], part[5], part[6], part[7], DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }
        catch (ArgumentOutOfRangeException)
        {
            return Convert.ToHexString(v);
        }
    }

    private static string Sid(ReadOnlySpan<byte> v)
    {
        if (v.Length < 8 || v.Length < 8 + (v[1] * 4))
        {
            return Convert.ToHexString(v);
        }
        var authority = 0L;
        for (var i = 2; i < 8; i++)
        {
            authority = (authority << 8) | v[i];
        }
        var text = new StringBuilder("S-").Append(v[0].ToString(CultureInfo.InvariantCulture)).Append('-').Append(authority.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < v[1]; i++)
        {
            text.Append('-').Append(BinaryPrimitives.ReadUInt32LittleEndian(v[(8 + (i * 4))..]).ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    private static string Array(byte type, ReadOnlySpan<byte> v) => string.Join(",", Items((byte)(type | 0x80), v));

    /// <summary>The items of an array value (type with 0x80), each as text: an element is repeated once per item.</summary>
    public static List<string> Items(byte type, ReadOnlySpan<byte> v)
    {
        var element = (byte)(type & 0x7F);
        if (element == 0x01)
        {
            return [.. Encoding.Unicode.GetString(v).TrimEnd('\0').Split('\0').Take(4096)];
        }
        var size = element switch { 0x03 or 0x04 => 1, 0x05 or 0x06 => 2, 0x07 or 0x08 or 0x0B or 0x0D or 0x14 => 4, 0x0F or 0x12 => 16, _ => 8 };
        var parts = new List<string>();
        for (var at = 0; at + size <= v.Length && parts.Count < 4096; at += size)
        {
            parts.Add(Text(element, v.Slice(at, size)));
        }
        return parts;
    }
}
