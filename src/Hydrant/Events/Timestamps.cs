using System.Globalization;
using System.Text.Json;

namespace Hydrant.Events;

/// <summary>RFC 3339 UTC with milliseconds, fixed width, so that text order is time order in keys.</summary>
public static class Timestamps
{
    public const int Width = 24; // yyyy-MM-ddTHH:mm:ss.fffZ
    public const long MaxEpochMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

    public static int Write(long epochMs, Span<byte> destination)
    {
        var writer = new Keys.KeyWriter(destination);
        writer.AppendTimestamp(DateTime.UnixEpoch.AddMilliseconds(epochMs));
        return writer.Length;
    }

    public static string ToText(long epochMs)
    {
        Span<byte> buffer = stackalloc byte[Width];
        Write(epochMs, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    /// <summary>Parses a timestamp this service wrote itself; anything else is a bug, not input.</summary>
    public static long ParseCanonical(string text) =>
        TryParse(text, out var ms) ? ms : throw new FormatException($"'{text}' is not a canonical timestamp");

    /// <summary>Parses RFC 3339 text (offset required) or epoch milliseconds as text.</summary>
    public static bool TryParse(string text, out long epochMs)
    {
        epochMs = 0;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            epochMs = ms;
            return ms <= MaxEpochMs;
        }
        if (!HasOffset(text.AsSpan()))
        {
            return false;
        }
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto))
        {
            return false;
        }
        epochMs = dto.ToUnixTimeMilliseconds();
        return epochMs >= 0;
    }

    /// <summary>
    /// Reads a JSON timestamp token: an RFC 3339 string with an offset, or a number read as whole
    /// epoch milliseconds or (Zeek's default) fractional epoch seconds.
    /// </summary>
    internal static bool TryRead(ref Utf8JsonReader reader, TimestampNumbers numbers, out long epochMs, out string? error)
    {
        epochMs = 0;
        error = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.Number when numbers == TimestampNumbers.EpochSeconds:
                if (!reader.TryGetDouble(out var seconds) || seconds < 0 || seconds * 1000 > MaxEpochMs)
                {
                    error = "timestamp: epoch seconds must be a number between 0 and 253402300799.999";
                    return false;
                }
                epochMs = (long)Math.Floor(seconds * 1000);
                return true;
            case JsonTokenType.Number:
                if (!reader.TryGetInt64(out var ms) || ms < 0 || ms > MaxEpochMs)
                {
                    error = "timestamp: epoch milliseconds must be a whole number between 0 and 253402300799999";
                    return false;
                }
                epochMs = ms;
                return true;
            case JsonTokenType.String:
                if (reader.ValueIsEscaped || !HasOffset(reader.ValueSpan) || !reader.TryGetDateTimeOffset(out var dto))
                {
                    error = "timestamp: not an RFC 3339 date-time with a UTC offset (e.g. 2026-11-24T03:29:03.123Z)";
                    return false;
                }
                epochMs = dto.ToUnixTimeMilliseconds();
                if (epochMs < 0)
                {
                    error = "timestamp: before 1970-01-01T00:00:00Z";
                    return false;
                }
                return true;
            default:
                error = "timestamp: must be an RFC 3339 string or epoch milliseconds";
                return false;
        }
    }

    private static bool HasOffset<T>(ReadOnlySpan<T> text) where T : IEquatable<T>, IConvertible
    {
        if (text.Length < 20)
        {
            return false;
        }
        var last = Convert.ToChar(text[^1], CultureInfo.InvariantCulture);
        if (last is 'Z' or 'z')
        {
            return true;
        }
        var sign = Convert.ToChar(text[^6], CultureInfo.InvariantCulture);
        var colon = Convert.ToChar(text[^3], CultureInfo.InvariantCulture);
        return sign is '+' or '-' && colon == ':';
    }
}

/// <summary>How a numeric timestamp is read.</summary>
internal enum TimestampNumbers
{
    EpochMilliseconds,
    EpochSeconds,
}
