using System.Text.Json;

namespace Hydrant.Events.Formats;

/// <summary>
/// The canonical <c>json</c> format: the record names the canonical fields itself, strictly
/// validated; every other property is copied as received (an own <c>logsource</c> included).
/// </summary>
internal sealed class JsonRecordMapper : RecordMapper
{
    public static readonly JsonRecordMapper Instance = new();

    [ThreadStatic]
    private static List<(int Start, int End)>? _threadOthers;

    public override string? Map(ReadOnlySpan<byte> record, in MapContext context, CanonicalWriter output, out CanonicalFields fields)
    {
        fields = default;
        var others = _threadOthers ??= [];
        others.Clear();
        var reader = new Utf8JsonReader(record, EventShape.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "event must be a JSON object";
        }

        string? id = null, eventType = null, sourceIP = null;
        (int Start, int End) idRaw = default, typeRaw = default;
        long? timestamp = null;
        EventLogsource? logsource = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = (int)reader.TokenStartIndex;
            if (reader.ValueTextEquals("timestamp"u8))
            {
                if (timestamp is not null)
                {
                    return "duplicate field 'timestamp'";
                }
                reader.Read();
                if (!Timestamps.TryRead(ref reader, TimestampNumbers.EpochMilliseconds, out var ms, out var error))
                {
                    return error;
                }
                timestamp = ms;
            }
            else if (reader.ValueTextEquals("eventType"u8))
            {
                if (eventType is not null)
                {
                    return "duplicate field 'eventType'";
                }
                reader.Read();
                var error = ReadKeyText(ref reader, "eventType", out eventType);
                if (error is not null)
                {
                    return error;
                }
                typeRaw = ((int)reader.TokenStartIndex, (int)reader.BytesConsumed);
            }
            else if (reader.ValueTextEquals("sourceIP"u8))
            {
                if (sourceIP is not null)
                {
                    return "duplicate field 'sourceIP'";
                }
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return "sourceIP: must be a string holding an IPv4 or IPv6 address";
                }
                var text = reader.GetString()!;
                if (!SourceAddress.TryNormalizeIp(text, out sourceIP))
                {
                    return $"sourceIP: '{Truncate(text)}' is not an IPv4 or IPv6 address";
                }
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                if (id is not null)
                {
                    return "duplicate field 'id'";
                }
                reader.Read();
                var error = ReadKeyText(ref reader, "id", out id);
                if (error is not null)
                {
                    return error;
                }
                idRaw = ((int)reader.TokenStartIndex, (int)reader.BytesConsumed);
            }
            else if (reader.ValueTextEquals("logsource"u8))
            {
                // Copied as received; what Sigma's logsource fields say is kept for the envelope.
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var (product, service, category) = EventEnvelope.ReadLogsource(ref reader);
                    logsource = EventEnvelope.LogsourceOf(product, service, category);
                }
                else
                {
                    reader.Skip();
                }
                others.Add((nameStart, (int)reader.BytesConsumed));
            }
            else
            {
                reader.Read();
                reader.Skip();
                others.Add((nameStart, (int)reader.BytesConsumed));
            }
        }

        if (record[(int)reader.BytesConsumed..].Trim(" \t\r\n"u8).Length != 0)
        {
            return "unexpected data after the event object";
        }
        if (timestamp is null)
        {
            return "missing required field 'timestamp'";
        }
        if (eventType is null)
        {
            return "missing required field 'eventType'";
        }
        if (sourceIP is null)
        {
            return "missing required field 'sourceIP'";
        }
        if (CheckTime(timestamp.Value, context) is { } future)
        {
            return future;
        }

        var idFromClient = id is not null;
        fields = new CanonicalFields(id ?? DerivedId(record, context), timestamp.Value, eventType, sourceIP, idFromClient, logsource);
        output.Begin();
        output.Header(fields, idFromClient ? record[idRaw.Start..idRaw.End] : [], record[typeRaw.Start..typeRaw.End], ownLogsource: true);
        foreach (var (start, end) in others)
        {
            output.RawProperty(record[start..end]);
        }
        output.End();
        return null;
    }

    private static string? ReadKeyText(ref Utf8JsonReader reader, string field, out string? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            return $"{field}: must be a string";
        }
        var text = reader.GetString()!;
        var error = CheckKeyText(field, text);
        if (error is null)
        {
            value = text;
        }
        return error;
    }
}
