using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hydrant.Events.Formats;

/// <summary>
/// Writes one canonical event object into the request's pooled buffer: canonical fields first,
/// then the record's own properties, copied as raw bytes wherever they came from JSON.
/// </summary>
internal sealed class CanonicalWriter(PooledBuffer buffer) : IDisposable
{
    private static readonly JsonWriterOptions Options = new()
    {
        SkipValidation = true,
        // Output is JSON for machines, never embedded in HTML: keep non-ASCII text as UTF-8.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly Utf8JsonWriter _json = new(buffer, Options);
    private bool _first;

    public PooledBuffer Buffer => buffer;

    public void Begin()
    {
        buffer.Write((byte)'{');
        _first = true;
    }

    public void End() => buffer.Write((byte)'}');

    public void Dispose() => _json.Dispose();

    /// <summary>
    /// The canonical header: id, timestamp, eventType, sourceIP, and the logsource when the format
    /// sets one (an event's own, in the json format, is copied with its other properties).
    /// </summary>
    public void Header(CanonicalFields fields, ReadOnlySpan<byte> rawId, ReadOnlySpan<byte> rawEventType, bool ownLogsource = false)
    {
        if (rawId.IsEmpty)
        {
            String("id"u8, fields.Id);
        }
        else
        {
            RawValue("id"u8, rawId);
        }
        Name("timestamp"u8);
        buffer.Write((byte)'"');
        buffer.Advance(Timestamps.Write(fields.TimestampMs, buffer.GetSpan(Timestamps.Width)));
        buffer.Write((byte)'"');
        if (rawEventType.IsEmpty)
        {
            String("eventType"u8, fields.EventType);
        }
        else
        {
            RawValue("eventType"u8, rawEventType);
        }
        String("sourceIP"u8, fields.SourceIP);
        if (!ownLogsource && fields.Logsource is { } source)
        {
            Name("logsource"u8);
            _json.Reset(buffer);
            _json.WriteStartObject();
            if (source.Product is not null)
            {
                _json.WriteString("product"u8, source.Product);
            }
            if (source.Service is not null)
            {
                _json.WriteString("service"u8, source.Service);
            }
            if (source.Category is not null)
            {
                _json.WriteString("category"u8, source.Category);
            }
            _json.WriteEndObject();
            _json.Flush();
        }
    }

    public void String(ReadOnlySpan<byte> name, string value)
    {
        Name(name);
        _json.Reset(buffer);
        _json.WriteStringValue(value);
        _json.Flush();
    }

    public void Number(ReadOnlySpan<byte> name, long value)
    {
        Name(name);
        buffer.Advance(Encode(value, buffer.GetSpan(20)));
    }

    public void RawValue(ReadOnlySpan<byte> name, ReadOnlySpan<byte> rawJsonValue)
    {
        Name(name);
        buffer.Write(rawJsonValue);
    }

    /// <summary>A property copied as it was: <c>"name": value</c> exactly as in the input.</summary>
    public void RawProperty(ReadOnlySpan<byte> rawNameColonValue)
    {
        Comma();
        buffer.Write(rawNameColonValue);
    }

    private void Name(ReadOnlySpan<byte> name)
    {
        Comma();
        buffer.Write((byte)'"');
        buffer.Write(name);
        buffer.Write("\":"u8);
    }

    private void Comma()
    {
        if (!_first)
        {
            buffer.Write((byte)',');
        }
        _first = false;
    }

    private static int Encode(long value, Span<byte> destination) =>
        value.TryFormat(destination, out var written, provider: System.Globalization.CultureInfo.InvariantCulture) ? written : 0;
}

/// <summary>The canonical fields of one event, as the mappers find them, and its logsource (the format's, or its own).</summary>
internal readonly record struct CanonicalFields(string Id, long TimestampMs, string EventType, string SourceIP, bool IdFromClient, EventLogsource? Logsource = null);
