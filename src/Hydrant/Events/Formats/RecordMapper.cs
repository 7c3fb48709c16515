using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Hydrant.Events.Formats;

/// <summary>
/// Per-record facts a mapper needs: the clock, the limits, the request's options, and where the
/// record is in its stream (the hash naming the stream, and the record's number in it).
/// </summary>
internal readonly record struct MapContext(long NowMs, EventLimits Limits, ParseOptions Options, UInt128 Stream = default, long Ordinal = 0);

/// <summary>
/// Maps one record of an input format onto the canonical event: finds the canonical fields and
/// writes the canonical JSON. Returns null when the record was written, or the reason it was not.
/// </summary>
internal abstract class RecordMapper
{
    public abstract string? Map(ReadOnlySpan<byte> record, in MapContext context, CanonicalWriter output, out CanonicalFields fields);

    public static RecordMapper For(InputFormat format) => format switch
    {
        InputFormat.CloudTrail => MappedJsonRecordMapper.CloudTrail,
        InputFormat.Zeek => MappedJsonRecordMapper.Zeek,
        InputFormat.Syslog => SyslogRecordMapper.Instance,
        InputFormat.Web => WebAccessRecordMapper.Instance,
        InputFormat.Windows or InputFormat.Evtx => Windows.WindowsRecordMapper.Instance,
        _ => JsonRecordMapper.Instance,
    };

    /// <summary>Text that becomes part of a key: 1 to 128 characters, no control characters.</summary>
    protected static string? CheckKeyText(string field, string text)
    {
        if (text.Length is 0 or > EventLimits.MaxFieldChars)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{field}: must be 1 to {EventLimits.MaxFieldChars} characters, got {text.Length}");
        }
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                return $"{field}: control characters are not allowed";
            }
        }
        return null;
    }

    /// <summary>A time the store keeps: not past the accepted clock skew, not older than the retention period.</summary>
    protected static string? CheckTime(long timestampMs, in MapContext context)
    {
        var skew = context.Limits.MaxFutureSkew;
        if (timestampMs > context.NowMs + (long)skew.TotalMilliseconds)
        {
            return string.Create(CultureInfo.InvariantCulture, $"timestamp {Timestamps.ToText(timestampMs)} is more than {skew.TotalMinutes:0} minutes in the future");
        }
        if (context.Limits.MaxAge is { } age && timestampMs < context.NowMs - (long)age.TotalMilliseconds)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"timestamp {Timestamps.ToText(timestampMs)} is older than the retention period of {age.TotalDays:0} days (Hydrant:Retention:Days), so it would not be kept; start the server with a longer retention to keep older events");
        }
        return null;
    }

    /// <summary>
    /// Formats whose source is not always an address keep what they have: a valid address is
    /// normalized, anything else (a service name, a zero-padded dotted quad) is kept as given.
    /// </summary>
    protected static string LenientSource(string text)
    {
        var trimmed = text.Trim();
        return SourceAddress.TryNormalizeIp(trimmed, out var ip) ? ip : trimmed;
    }

    [ThreadStatic]
    private static XxHash128? _threadHash;

    /// <summary>
    /// The id of a record that brings none, derived from what it is and where: XxHash128 of the
    /// stream's hash, the record's number in the stream and its bytes, in Crockford base32 (26
    /// characters, like a ULID). Sending the same stream again gives the same ids, so it is
    /// stored once; two identical lines of one stream have different numbers, so both are kept.
    /// </summary>
    protected static string DerivedId(ReadOnlySpan<byte> record, in MapContext context)
    {
        // One hasher per thread, reset for each record: the ids are the same as with a new one.
        var hash = _threadHash ??= new XxHash128();
        hash.Reset();
        Span<byte> prefix = stackalloc byte[24];
        BinaryPrimitives.WriteUInt128LittleEndian(prefix, context.Stream);
        BinaryPrimitives.WriteInt64LittleEndian(prefix[16..], context.Ordinal);
        hash.Append(prefix);
        hash.Append(record);
        return Crockford(hash.GetCurrentHashAsUInt128());
    }

    private static string Crockford(UInt128 value) => string.Create(26, value, static (chars, v) =>
    {
        const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        for (var i = chars.Length - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(v & 31)];
            v >>= 5;
        }
    });

    protected static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
