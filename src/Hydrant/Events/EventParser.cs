using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Text.Json;
using Hydrant.Events.Formats;
using Hydrant.Events.Formats.Evtx;

namespace Hydrant.Events;

/// <summary>
/// Reads a request body from UTF-8 bytes into canonical events. Framing first: a JSON array,
/// NDJSON, one or more pretty-printed objects, a CloudTrail <c>{"Records":[...]}</c> file, or
/// syslog text lines. Then each record is mapped on its own by its format's
/// <see cref="RecordMapper"/>, so one bad record is rejected with its index and reason while the
/// others are kept. Canonical JSON is built by copying the input's own bytes where it was JSON.
/// </summary>
public sealed class EventParser(EventLimits limits, TimeProvider time)
{
    // Framing only finds where each record starts and ends, without recursion, so it reads far
    // deeper than an event may be: a record nested too deep is rejected on its own, by index.
    private const int FramingDepth = 1024;
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = FramingDepth };
    private static readonly JsonReaderOptions MultiValueOptions = new() { MaxDepth = FramingDepth, AllowMultipleValues = true };

    /// <summary>Thrown when the body cannot be read as a whole (an unreadable JSON array, an empty body).</summary>
    public sealed class UnreadableBodyException(string message) : Exception(message);

    public ParsedBatch Parse(ReadOnlySpan<byte> body) => Parse(body, ParseOptions.Json);

    public ParsedBatch Parse(ReadOnlySpan<byte> body, ParseOptions options)
    {
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }
        // The buffer passes to the ParsedBatch, which returns it to the pool when the request is done.
        var buffer = new PooledBuffer(Math.Clamp(body.Length + (body.Length / 8), 4096, 64 * 1024 * 1024));
        // The stream a record is numbered in: the one the client names, or else this body. An EVTX
        // record is its own identity (computer, channel, record id, time, data), wherever it is sent from.
        if (EvtxFile.HasSignature(body))
        {
            options = options with { Format = InputFormat.Evtx }; // an EVTX file, whatever the format says
        }
        var stream = options.Format == InputFormat.Evtx ? EvtxStream
            : options.Stream is { } named ? XxHash128.HashToUInt128(System.Text.Encoding.UTF8.GetBytes(named)) : XxHash128.HashToUInt128(body);
        var context = new MapContext(time.GetUtcNow().ToUnixTimeMilliseconds(), limits, options, stream, options.Position);
        using var session = new Session(context, RecordMapper.For(options.Format), buffer);
        try
        {
            var start = SkipWhitespace(body, 0);
            if (start == body.Length)
            {
                throw new UnreadableBodyException("the request body holds no events");
            }
            if (options.Format == InputFormat.Evtx)
            {
                ParseEvtx(body, session, (int)Math.Clamp(options.Position, 0, int.MaxValue));
            }
            else if (options.Format is InputFormat.Syslog or InputFormat.Web)
            {
                ParseLines(body, session);
            }
            else if (body[start] == (byte)'[')
            {
                ParseArray(body, session);
            }
            else if (options.Format == InputFormat.CloudTrail && TryParseRecordsFile(body, session))
            {
                // {"Records":[...]}
            }
            else if (FirstValueSpansLines(body, start))
            {
                ParseConcatenated(body, session);
            }
            else
            {
                ParseLines(body, session);
            }
            return session.Finish();
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static readonly UInt128 EvtxStream = XxHash128.HashToUInt128("evtx"u8);

    /// <summary>
    /// An EVTX file (or a part of one: its header and a run of chunks, the first numbered
    /// <paramref name="firstChunk"/>): each record framed, and each run of bytes where records
    /// were lost, is a record of the body, by index; records are read into the nested Windows
    /// JSON. A checksum that does not match (the records read as they are) is a notice.
    /// </summary>
    private static void ParseEvtx(ReadOnlySpan<byte> body, Session session, int firstChunk)
    {
        var file = EvtxFile.Open(body.ToArray(), out var error, firstChunk) ?? throw new UnreadableBodyException(error!);
        var json = new ArrayBufferWriter<byte>(4096);
        var index = 0;
        var problemsSeen = 0;
        void TakeProblems()
        {
            for (; problemsSeen < file.Problems.Count; problemsSeen++)
            {
                var problem = file.Problems[problemsSeen];
                var text = $"at byte {problem.Offset}: {problem.What}";
                if (problem.RecordsLost)
                {
                    session.Reject(index++, text);
                }
                else
                {
                    session.Notice(text);
                }
            }
        }
        foreach (var record in file.Records())
        {
            TakeProblems();
            json.ResetWrittenCount();
            if (EvtxJson.TryWrite(file, record, json) is { } unreadable)
            {
                session.Reject(index++, unreadable);
                continue;
            }
            // Ordinal 0: the id is the record's content, so the same record sent twice, in any part, is one event.
            session.Add(json.WrittenSpan, index++, ordinal: 0);
        }
        TakeProblems();
    }

    private static void ParseArray(ReadOnlySpan<byte> body, Session session)
    {
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            reader.Read(); // StartArray
            ReadArrayElements(ref reader, body, session);
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

    private static void ReadArrayElements(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, Session session)
    {
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var startIndex = (int)reader.TokenStartIndex;
            reader.Skip();
            session.Add(body[startIndex..(int)reader.BytesConsumed], index++);
        }
    }

    /// <summary>
    /// A CloudTrail log file: one object whose "Records" array holds the records. Once that array
    /// is found the body must be exactly such a file: a second "Records" or anything after the
    /// object refuses the whole body, rather than keeping part of it.
    /// </summary>
    private static bool TryParseRecordsFile(ReadOnlySpan<byte> body, Session session)
    {
        var reader = new Utf8JsonReader(body, ReaderOptions);
        var found = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("Records"u8))
                {
                    if (found)
                    {
                        throw new UnreadableBodyException("the CloudTrail file has a second \"Records\" array");
                    }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        throw new UnreadableBodyException("\"Records\" must be an array of CloudTrail records");
                    }
                    ReadArrayElements(ref reader, body, session);
                    found = true;
                    continue;
                }
                reader.Read();
                reader.Skip();
            }
            if (found && SkipWhitespace(body, (int)reader.BytesConsumed) != body.Length)
            {
                throw new UnreadableBodyException($"unexpected data after the CloudTrail Records object at byte {reader.BytesConsumed}");
            }
            return found;
        }
        catch (JsonException e) when (found)
        {
            throw new UnreadableBodyException($"the CloudTrail Records file cannot be read after its records: {e.Message}");
        }
        catch (JsonException)
        {
            return false; // not one readable object: NDJSON, read line by line
        }
    }

    /// <summary>One or more JSON values that span lines (pretty-printed): read value after value.</summary>
    private static void ParseConcatenated(ReadOnlySpan<byte> body, Session session)
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

    private static void ParseLines(ReadOnlySpan<byte> body, Session session)
    {
        var index = 0;
        while (!body.IsEmpty)
        {
            var newline = body.IndexOf((byte)'\n');
            var line = newline < 0 ? body : body[..newline];
            body = newline < 0 ? [] : body[(newline + 1)..];
            if (FileShape.IsBlank(line))
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
    private sealed class Session(MapContext context, RecordMapper mapper, PooledBuffer buffer) : IDisposable
    {
        private readonly CanonicalWriter _output = new(buffer);
        private readonly List<(CanonicalFields Fields, int Index, int Start, int Length)> _accepted = [];
        private readonly List<EventRejection> _rejections = [];
        private readonly List<string> _notices = [];
        private int _records;

        public void Notice(string notice) => _notices.Add(notice);

        public void Reject(int index, string error)
        {
            _records = Math.Max(_records, index + 1);
            _rejections.Add(new EventRejection(index, error));
        }

        /// <summary>Maps the record; its derived id counts it as number <paramref name="ordinal"/> of the stream, by default the body's first record's number plus its index.</summary>
        public void Add(ReadOnlySpan<byte> record, int index, long? ordinal = null)
        {
            _records = Math.Max(_records, index + 1);
            if (record.Length > context.Limits.MaxEventBytes)
            {
                _rejections.Add(new EventRejection(index, string.Create(CultureInfo.InvariantCulture,
                    $"event is {record.Length} bytes, over the limit of {context.Limits.MaxEventBytes} bytes")));
                return;
            }
            var start = buffer.Length;
            string? error;
            CanonicalFields fields = default;
            try
            {
                error = CheckShape(record) ?? mapper.Map(record, context with { Ordinal = ordinal ?? context.Ordinal + index }, _output, out fields);
            }
            catch (JsonException e)
            {
                error = "malformed JSON: " + e.Message;
                fields = default;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidOperationException)
            {
                // Input no check anticipated: this record is rejected, the request and its other records are not.
                error = "unreadable record: " + e.Message;
                fields = default;
            }
            if (error is null)
            {
                _accepted.Add((fields, index, start, buffer.Length - start));
            }
            else
            {
                buffer.Truncate(start);
                _rejections.Add(new EventRejection(index, error));
            }
        }

        /// <summary>JSON records must have the shape every consumer reads; text lines must not hold NUL.</summary>
        private string? CheckShape(ReadOnlySpan<byte> record)
        {
            if (context.Options.Format is InputFormat.Syslog or InputFormat.Web)
            {
                return record.Contains((byte)0) ? "the line holds a NUL byte (U+0000)" : null;
            }
            return EventShape.Check(record, context.Options.KeepEnrichment ? default : Enrichment.Enricher.ReservedField);
        }

        public ParsedBatch Finish()
        {
            var memory = buffer.Memory;
            var events = new List<SecurityEvent>(_accepted.Count);
            foreach (var (f, index, start, length) in _accepted)
            {
                events.Add(new SecurityEvent
                {
                    Id = f.Id,
                    TimestampMs = f.TimestampMs,
                    EventType = f.EventType,
                    SourceIP = f.SourceIP,
                    IdFromClient = f.IdFromClient,
                    Logsource = f.Logsource,
                    Index = index,
                    Json = memory.Slice(start, length),
                });
            }
            return new ParsedBatch(buffer, events, _rejections, _records, _notices);
        }

        public void Dispose() => _output.Dispose();
    }
}
