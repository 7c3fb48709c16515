using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Hydrant.Events;

/// <summary>The logsource of an event (Sigma's product, service, category): set by its format, or its own in canonical JSON.</summary>
public sealed record EventLogsource(string? Product, string? Service, string? Category = null);

/// <summary>
/// What ingest found out about an event, carried beside its JSON so that no consumer reads the
/// JSON again for it: the canonical fields, its time as milliseconds, and its logsource.
/// </summary>
public readonly record struct EventEnvelope(string Id, long TimestampMs, string EventType, string SourceIP, EventLogsource? Logsource)
{
    /// <summary>The first byte of an encoded envelope: the encoding's version (canonical JSON starts with '{', an embedded spool's old pointer with 's').</summary>
    public const byte Version = 1;

    /// <summary>
    /// Appends the envelope: the version, the time (8 bytes), then id, type, source, product,
    /// service and category, each a length (varint, 0 for none, else bytes + 1) and its UTF-8.
    /// </summary>
    public void Write(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(9);
        span[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], TimestampMs);
        output.Advance(9);
        WriteText(output, Id);
        WriteText(output, EventType);
        WriteText(output, SourceIP);
        WriteText(output, Logsource?.Product);
        WriteText(output, Logsource?.Service);
        WriteText(output, Logsource?.Category);
    }

    /// <summary>Reads an envelope <see cref="Write"/> wrote at the start of <paramref name="value"/>; false when it does not start with one.</summary>
    public static bool TryRead(ReadOnlySpan<byte> value, out EventEnvelope envelope, out int consumed)
    {
        envelope = default;
        consumed = 0;
        if (value.Length < 9 || value[0] != Version)
        {
            return false;
        }
        var timestamp = BinaryPrimitives.ReadInt64BigEndian(value[1..]);
        var at = 9;
        if (!TryReadText(value, ref at, out var id) || !TryReadText(value, ref at, out var type) || !TryReadText(value, ref at, out var source)
            || !TryReadText(value, ref at, out var product) || !TryReadText(value, ref at, out var service) || !TryReadText(value, ref at, out var category)
            || id is null || type is null || source is null)
        {
            return false;
        }
        envelope = new EventEnvelope(id, timestamp, type, source, LogsourceOf(product, service, category));
        consumed = at;
        return true;
    }

    /// <summary>The envelope of canonical JSON (docs/formats.md), read from its text: for entries spooled without one.</summary>
    /// <exception cref="JsonException">The bytes are not a JSON object.</exception>
    /// <exception cref="FormatException">The timestamp is not canonical.</exception>
    public static EventEnvelope Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, EventShape.ReaderOptions);
        string id = string.Empty, timestamp = string.Empty, type = string.Empty, source = string.Empty;
        string? product = null, service = null, category = null;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("logsource"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    (product, service, category) = ReadLogsource(ref reader);
                }
                else
                {
                    reader.Skip();
                }
                continue;
            }
            var field = reader.ValueTextEquals("id"u8) ? 1 : reader.ValueTextEquals("timestamp"u8) ? 2 : reader.ValueTextEquals("eventType"u8) ? 3 : reader.ValueTextEquals("sourceIP"u8) ? 4 : 0;
            reader.Read();
            if (field > 0 && reader.TokenType == JsonTokenType.String)
            {
                var value = reader.GetString()!;
                switch (field)
                {
                    case 1:
                        id = value;
                        break;
                    case 2:
                        timestamp = value;
                        break;
                    case 3:
                        type = value;
                        break;
                    default:
                        source = value;
                        break;
                }
            }
            reader.Skip();
        }
        return new EventEnvelope(id, Timestamps.ParseCanonical(timestamp), type, source, LogsourceOf(product, service, category));
    }

    /// <summary>Product, service and category of a logsource object the reader is on (strings only), leaving it on the object's end.</summary>
    public static (string? Product, string? Service, string? Category) ReadLogsource(ref Utf8JsonReader reader)
    {
        string? product = null, service = null, category = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var which = reader.ValueTextEquals("product"u8) ? 1 : reader.ValueTextEquals("service"u8) ? 2 : reader.ValueTextEquals("category"u8) ? 3 : 0;
            reader.Read();
            if (which > 0 && reader.TokenType == JsonTokenType.String)
            {
                var value = reader.GetString();
                switch (which)
                {
                    case 1:
                        product = value;
                        break;
                    case 2:
                        service = value;
                        break;
                    default:
                        category = value;
                        break;
                }
            }
            reader.Skip();
        }
        return (product, service, category);
    }

    /// <summary>A logsource with at least one of its fields, else none.</summary>
    public static EventLogsource? LogsourceOf(string? product, string? service, string? category) =>
        product is null && service is null && category is null ? null : new EventLogsource(product, service, category);

    private static void WriteText(IBufferWriter<byte> output, string? text)
    {
        if (text is null)
        {
            output.GetSpan(1)[0] = 0;
            output.Advance(1);
            return;
        }
        var bytes = Encoding.UTF8.GetByteCount(text);
        var span = output.GetSpan(5 + bytes);
        var length = WriteVarint(span, (uint)bytes + 1);
        output.Advance(length + Encoding.UTF8.GetBytes(text, span[length..]));
    }

    private static bool TryReadText(ReadOnlySpan<byte> value, ref int at, out string? text)
    {
        text = null;
        uint length = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (at >= value.Length || shift > 28)
            {
                return false;
            }
            var b = value[at++];
            length |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                break;
            }
        }
        if (length == 0)
        {
            return true;
        }
        var bytes = (int)Math.Min(length - 1, int.MaxValue);
        if (bytes > value.Length - at)
        {
            return false;
        }
        text = Encoding.UTF8.GetString(value.Slice(at, bytes));
        at += bytes;
        return true;
    }

    private static int WriteVarint(Span<byte> span, uint value)
    {
        var i = 0;
        for (; value >= 0x80; value >>= 7)
        {
            span[i++] = (byte)(value | 0x80);
        }
        span[i++] = (byte)value;
        return i;
    }
}
