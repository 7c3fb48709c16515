using System.Text;

namespace Hydrant.Keys;

/// <summary>
/// Writes key text as UTF-8 straight into a span: the allocation-free twin of the string key
/// builders in <see cref="EventKeys"/>, for the ingest hot path.
/// </summary>
public ref struct KeyWriter(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;

    public int Length { get; private set; }

    public readonly ReadOnlySpan<byte> Written => _destination[..Length];

    public void Append(scoped ReadOnlySpan<byte> utf8)
    {
        utf8.CopyTo(_destination[Length..]);
        Length += utf8.Length;
    }

    public void Append(byte value) => _destination[Length++] = value;

    public void Append(string text) => Length += Encoding.UTF8.GetBytes(text, _destination[Length..]);

    public void AppendNumber(int value)
    {
        if (!value.TryFormat(_destination[Length..], out var written, provider: System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("Key buffer too small.");
        }
        Length += written;
    }

    /// <summary>yyyy-MM</summary>
    public void AppendMonth(DateTime utc)
    {
        AppendDigits(utc.Year, 4);
        Append((byte)'-');
        AppendDigits(utc.Month, 2);
    }

    /// <summary>yyyy-MM-dd</summary>
    public void AppendDay(DateTime utc)
    {
        AppendMonth(utc);
        Append((byte)'-');
        AppendDigits(utc.Day, 2);
    }

    /// <summary>yyyy-MM-ddTHH:mm:ss.fffZ, the fixed-width timestamp of sort keys.</summary>
    public void AppendTimestamp(DateTime utc)
    {
        AppendDay(utc);
        Append((byte)'T');
        AppendDigits(utc.Hour, 2);
        Append((byte)':');
        AppendDigits(utc.Minute, 2);
        Append((byte)':');
        AppendDigits(utc.Second, 2);
        Append((byte)'.');
        AppendDigits(utc.Millisecond, 3);
        Append((byte)'Z');
    }

    private void AppendDigits(int value, int width)
    {
        for (var i = width - 1; i >= 0; i--)
        {
            _destination[Length + i] = (byte)('0' + (value % 10));
            value /= 10;
        }
        Length += width;
    }
}
