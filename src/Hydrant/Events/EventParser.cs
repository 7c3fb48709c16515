using System.Globalization;
using System.Text.Json;

namespace Hydrant.Events;

/// <summary>
/// Parses the canonical <c>json</c> input format from UTF-8 bytes: NDJSON, a JSON array, or one
/// object (also several pretty-printed objects one after another). Each record is validated on its
/// own, so one bad record is rejected with its index and reason while the others are kept.
/// The canonical JSON of an accepted event is built by copying the input's own bytes: canonical
/// fields first, then every other property exactly as received.
/// </summary>
public sealed class EventParser(EventLimits limits, TimeProvider time)
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128 };
    private static readonly JsonReaderOptions MultiValueOptions = new() { MaxDepth = 128, AllowMultipleValues = true };

    /// <summary>Thrown when the body cannot be read as a whole (an unreadable JSON array, an empty body).</summary>
    public sealed class UnreadableBodyException(string message) : Exception(message);

    public ParsedBatch Parse(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }
        // The buffer passes to the ParsedBatch, which returns it to the pool when the request is done.
        var buffer = new PooledBuffer(Math.Clamp(body.Length + (body.Length / 8), 4096, 64 * 1024 * 1024));
        var session = new Session(limits, time.GetUtcNow().ToUnixTimeMilliseconds(), buffer);
        try
        {
            var start = SkipWhitespace(body, 0);
            if (start == body.Length)
            {
                throw new UnreadableBodyException("the request body holds no events");
            }
            if (body[start] == (byte)'[')
            {
                ParseArray(body, ref session);
            }
            else if (FirstValueSpansLines(body, start))
            {
                ParseConcatenated(body, ref session);
            }
            else
            {
                ParseLines(body, ref session);
            }
            return session.Finish();
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static void ParseArray(ReadOnlySpan<byte> body, ref Session session)
    {
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            reader.Read(); // StartArray
            var index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var startIndex = (int)reader.TokenStartIndex;
                reader.Skip();
                session.Add(body[startIndex..(int)reader.BytesConsumed], index++);
            }
            if (reader.TokenType != JsonTokenType.EndArray)
            {
                throw new UnreadableBodyException("the JSON array is not closed");
            }
            if (SkipWhitespace(body, (int)reader.BytesConsumed) != body.Length)
            {
                throw new UnreadableBodyException($"unexpected data after the JSON array at byte {reader.BytesConsumed}");
            }
        }
        catch (JsonException e)
        {
            throw new UnreadableBodyException($"the JSON array cannot be read: {e.Message}");
        }
    }

    /// <summary>One or more JSON values that span lines (pretty-printed): read value after value.</summary>
    private static void ParseConcatenated(ReadOnlySpan<byte> body, ref Session session)
    {
        var reader = new Utf8JsonReader(body, MultiValueOptions);
        var index = 0;
        try
        {
            while (reader.Read())
            {
                var startIndex = (int)reader.TokenStartIndex;
                reader.Skip();
                session.Add(body[startIndex..(int)reader.BytesConsumed], index++);
            }
        }
        catch (JsonException e)
        {
            session.Reject(index, $"malformed JSON, the rest of the body could not be read: {e.Message}");
        }
    }

    private static void ParseLines(ReadOnlySpan<byte> body, ref Session session)
    {
        var index = 0;
        while (!body.IsEmpty)
        {
            var newline = body.IndexOf((byte)'\n');
            var line = newline < 0 ? body : body[..newline];
            body = newline < 0 ? [] : body[(newline + 1)..];
            if (line.TrimStart(" \t\r"u8).IsEmpty)
            {
                continue;
            }
            session.Add(line.TrimEnd((byte)'\r'), index++);
        }
    }

    private static bool FirstValueSpansLines(ReadOnlySpan<byte> body, int start)
    {
        var newline = body[start..].IndexOf((byte)'\n');
        if (newline < 0)
        {
            return false;
        }
        var reader = new Utf8JsonReader(body[start..], MultiValueOptions);
        try
        {
            reader.Read();
            reader.Skip();
            return reader.BytesConsumed > newline;
        }
        catch (JsonException)
        {
            // An unreadable first value is one bad line; line mode rejects it and reads the rest.
            return false;
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> body, int from)
    {
        while (from < body.Length && body[from] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            from++;
        }
        return from;
    }

    /// <summary>Per-request state: output buffer, accepted events and rejections.</summary>
    private ref struct Session(EventLimits limits, long nowMs, PooledBuffer buffer)
    {
        private readonly PooledBuffer _buffer = buffer;
        private readonly List<PendingEvent> _pending = [];
        private readonly List<EventRejection> _rejections = [];
        private readonly List<(int Start, int End)> _others = [];
        private int _records;

        public void Reject(int index, string error)
        {
            _records = Math.Max(_records, index + 1);
            _rejections.Add(new EventRejection(index, error));
        }

        public void Add(ReadOnlySpan<byte> record, int index)
        {
            _records = Math.Max(_records, index + 1);
            if (record.Length > limits.MaxEventBytes)
            {
                _rejections.Add(new EventRejection(index, string.Create(CultureInfo.InvariantCulture,
                    $"event is {record.Length} bytes, over the limit of {limits.MaxEventBytes} bytes")));
                return;
            }
            try
            {
                var error = Canonicalize(record, out var pending);
                if (error is null)
                {
                    _pending.Add(pending);
                }
                else
                {
                    _rejections.Add(new EventRejection(index, error));
                }
            }
            catch (JsonException e)
            {
                _rejections.Add(new EventRejection(index, "malformed JSON: " + e.Message));
            }
        }

        public readonly ParsedBatch Finish()
        {
            var memory = _buffer.Memory;
            var events = new List<SecurityEvent>(_pending.Count);
            foreach (var p in _pending)
            {
                events.Add(new SecurityEvent
                {
                    Id = p.Id,
                    TimestampMs = p.TimestampMs,
                    EventType = p.EventType,
                    SourceIP = p.SourceIP,
                    IdFromClient = p.IdFromClient,
                    Json = memory.Slice(p.Start, p.Length),
                });
            }
            return new ParsedBatch(_buffer, events, _rejections, _records);
        }

        private readonly string? Canonicalize(ReadOnlySpan<byte> record, out PendingEvent pending)
        {
            pending = default;
            _others.Clear();
            var reader = new Utf8JsonReader(record, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "event must be a JSON object";
            }

            string? id = null, eventType = null, sourceIP = null;
            (int Start, int End) idRaw = default, typeRaw = default;
            long? timestamp = null;

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
                    if (!Timestamps.TryRead(ref reader, out var ms, out var error))
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
                else
                {
                    reader.Read();
                    reader.Skip();
                    _others.Add((nameStart, (int)reader.BytesConsumed));
                }
            }

            var end = (int)reader.BytesConsumed;
            if (record[end..].Trim(" \t\r\n"u8).Length != 0)
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
            if (timestamp.Value > nowMs + (long)limits.MaxFutureSkew.TotalMilliseconds)
            {
                return $"timestamp {Timestamps.ToText(timestamp.Value)} is more than {limits.MaxFutureSkew.TotalMinutes:0} minutes in the future";
            }

            var idFromClient = id is not null;
            id ??= Ulid.NewUlid().ToString();

            var start = _buffer.Length;
            _buffer.Write("{\"id\":"u8);
            if (idFromClient)
            {
                _buffer.Write(record[idRaw.Start..idRaw.End]);
            }
            else
            {
                WriteAsciiString(id);
            }
            _buffer.Write(",\"timestamp\":\""u8);
            _buffer.Advance(Timestamps.Write(timestamp.Value, _buffer.GetSpan(Timestamps.Width)));
            _buffer.Write((byte)'"');
            _buffer.Write(",\"eventType\":"u8);
            _buffer.Write(record[typeRaw.Start..typeRaw.End]);
            _buffer.Write(",\"sourceIP\":"u8);
            WriteAsciiString(sourceIP);
            foreach (var (otherStart, otherEnd) in _others)
            {
                _buffer.Write((byte)',');
                _buffer.Write(record[otherStart..otherEnd]);
            }
            _buffer.Write((byte)'}');

            pending = new PendingEvent(id, timestamp.Value, eventType, sourceIP, idFromClient, start, _buffer.Length - start);
            return null;
        }

        private readonly void WriteAsciiString(string value)
        {
            _buffer.Write((byte)'"');
            var span = _buffer.GetSpan(value.Length);
            for (var i = 0; i < value.Length; i++)
            {
                span[i] = (byte)value[i];
            }
            _buffer.Advance(value.Length);
            _buffer.Write((byte)'"');
        }

        private static string? ReadKeyText(ref Utf8JsonReader reader, string field, out string? value)
        {
            value = null;
            if (reader.TokenType != JsonTokenType.String)
            {
                return $"{field}: must be a string";
            }
            var text = reader.GetString()!;
            if (text.Length is 0 or > EventLimits.MaxFieldChars)
            {
                return $"{field}: must be 1 to {EventLimits.MaxFieldChars} characters, got {text.Length}";
            }
            foreach (var c in text)
            {
                if (char.IsControl(c))
                {
                    return $"{field}: control characters are not allowed";
                }
            }
            value = text;
            return null;
        }

        private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
    }

    private readonly record struct PendingEvent(
        string Id, long TimestampMs, string EventType, string SourceIP, bool IdFromClient, int Start, int Length);
}
