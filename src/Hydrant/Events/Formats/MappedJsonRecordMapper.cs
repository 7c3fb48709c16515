using System.Text;
using System.Text.Json;

namespace Hydrant.Events.Formats;

/// <summary>
/// JSON formats whose records name things their own way (CloudTrail, Zeek): the canonical fields
/// are read from the format's fields, which stay in the event as received. A property of the
/// record whose name is a canonical field with another meaning (CloudTrail's own
/// <c>eventType</c>, Zeek pe's <c>id</c>) is kept under <c>{prefix}{name}</c>.
/// </summary>
internal sealed class MappedJsonRecordMapper : RecordMapper
{
    // Declared before the instances below: their constructors read it, and statics initialize in order.
    private static readonly byte[][] CanonicalNames =
        ["id"u8.ToArray(), "timestamp"u8.ToArray(), "eventType"u8.ToArray(), "sourceIP"u8.ToArray(), "logsource"u8.ToArray()];

    public static readonly MappedJsonRecordMapper CloudTrail = new(new FieldMap
    {
        Timestamps = ["eventTime"u8.ToArray(), "@timestamp"u8.ToArray()],
        TimestampNumbers = TimestampNumbers.EpochMilliseconds,
        EventType = ["eventName"u8.ToArray()],
        Sources = ["sourceIPAddress"u8.ToArray(), "eventSource"u8.ToArray()],
        Ids = ["eventID"u8.ToArray()],
        CollisionPrefix = "cloudtrail_",
        Describe = "eventTime (or @timestamp)",
        DescribeType = "eventName",
        DescribeSource = "sourceIPAddress or eventSource",
    });

    public static readonly MappedJsonRecordMapper Zeek = new(new FieldMap
    {
        Timestamps = ["ts"u8.ToArray()],
        TimestampNumbers = TimestampNumbers.EpochSeconds,
        Paths = ["_path"u8.ToArray(), "@stream"u8.ToArray()],
        Sources = ["id.orig_h"u8.ToArray(), "host"u8.ToArray()],
        Ids = [],
        CollisionPrefix = "zeek_",
        Describe = "ts",
        DescribeType = "_path or @stream",
        DescribeSource = "id.orig_h or host",
    });

    [ThreadStatic]
    private static List<Property>? _threadProperties;

    /// <summary>The Zeek log type this thread read last, as bytes and as what is made of it: a file is one type, line after line.</summary>
    [ThreadStatic]
    private static ZeekPath? _threadPath;

    private static readonly EventLogsource CloudTrailLogsource = new("aws", "cloudtrail");

    private sealed record ZeekPath(byte[] Utf8, string Path, string EventType, EventLogsource Logsource);

    private readonly FieldMap _map;

    /// <summary>The names colliding properties are kept under ({prefix}{canonical name}), by CanonicalNames index.</summary>
    private readonly byte[][] _renamed;

    private MappedJsonRecordMapper(FieldMap map)
    {
        _map = map;
        _renamed = [.. CanonicalNames.Select(name => Encoding.UTF8.GetBytes(map.CollisionPrefix + Encoding.UTF8.GetString(name)))];
    }

    private sealed record FieldMap
    {
        public required byte[][] Timestamps { get; init; }
        public required TimestampNumbers TimestampNumbers { get; init; }
        public byte[][] EventType { get; init; } = [];
        public byte[][] Paths { get; init; } = [];
        public required byte[][] Sources { get; init; }
        public required byte[][] Ids { get; init; }
        public required string CollisionPrefix { get; init; }
        public required string Describe { get; init; }
        public required string DescribeType { get; init; }
        public required string DescribeSource { get; init; }
        public bool IsZeek => Paths.Length > 0;
    }

    private readonly record struct Property(int NameStart, int ValueStart, int End, int RenameAs);

    public override string? Map(ReadOnlySpan<byte> record, in MapContext context, CanonicalWriter output, out CanonicalFields fields)
    {
        fields = default;
        var properties = _threadProperties ??= [];
        properties.Clear();
        var reader = new Utf8JsonReader(record, EventShape.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "record must be a JSON object";
        }

        Span<long?> timestamps = stackalloc long?[_map.Timestamps.Length];
        var sources = new string?[_map.Sources.Length];
        string? eventType = null, path = null, id = null, timestampError = null;
        var idRaw = (Start: 0, End: 0);
        // Which of the names colliding properties are renamed to the record also has itself.
        var renamedTaken = 0;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = (int)reader.TokenStartIndex;
            var timestampSlot = IndexOf(ref reader, _map.Timestamps);
            var sourceSlot = IndexOf(ref reader, _map.Sources);
            var isType = IndexOf(ref reader, _map.EventType) >= 0;
            var isPath = IndexOf(ref reader, _map.Paths) >= 0;
            var isId = IndexOf(ref reader, _map.Ids) >= 0;
            var rename = IndexOf(ref reader, CanonicalNames);
            if (IndexOf(ref reader, _renamed) is var taken and >= 0)
            {
                renamedTaken |= 1 << taken;
            }
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;

            if (timestampSlot >= 0 && timestamps[timestampSlot] is null)
            {
                if (Timestamps.TryRead(ref reader, _map.TimestampNumbers, out var ms, out var error))
                {
                    timestamps[timestampSlot] = ms;
                }
                else
                {
                    timestampError ??= error;
                }
            }
            if (reader.TokenType == JsonTokenType.String)
            {
                if (sourceSlot >= 0 && sources[sourceSlot] is null)
                {
                    var text = reader.GetString()!;
                    sources[sourceSlot] = text.Trim().Length > 0 ? text : null;
                }
                if (isType && eventType is null)
                {
                    eventType = reader.GetString();
                }
                if (isPath && path is null)
                {
                    path = _threadPath is { } last && reader.ValueTextEquals(last.Utf8) ? last.Path : reader.GetString();
                }
                if (isId && id is null)
                {
                    id = reader.GetString();
                    idRaw = (valueStart, (int)reader.BytesConsumed);
                }
            }
            reader.Skip();
            properties.Add(new Property(nameStart, valueStart, (int)reader.BytesConsumed, rename));
        }
        if (record[(int)reader.BytesConsumed..].Trim(" \t\r\n"u8).Length != 0)
        {
            return "unexpected data after the record";
        }
        foreach (var p in properties)
        {
            if (p.RenameAs >= 0 && (renamedTaken & (1 << p.RenameAs)) != 0)
            {
                var renamed = Encoding.UTF8.GetString(_renamed[p.RenameAs]);
                return $"duplicate key '{renamed}': the record has it, and its own '{Encoding.UTF8.GetString(CanonicalNames[p.RenameAs])}' is kept under that name";
            }
        }

        long? timestamp = null;
        foreach (var candidate in timestamps)
        {
            timestamp ??= candidate;
        }
        if (timestamp is null)
        {
            return timestampError ?? $"missing {_map.Describe}";
        }
        if (CheckTime(timestamp.Value, context) is { } future)
        {
            return future;
        }

        var logsource = CloudTrailLogsource;
        if (_map.IsZeek)
        {
            path ??= context.Options.ZeekPath;
            if (string.IsNullOrWhiteSpace(path))
            {
                return $"no log type: the record has no {_map.DescribeType} and the request no ?path=";
            }
            var known = _threadPath is { } last && last.Path == path
                ? last
                : _threadPath = new ZeekPath(Encoding.UTF8.GetBytes(path), path, "zeek." + path, new EventLogsource("zeek", path));
            eventType = known.EventType;
            logsource = known.Logsource;
        }
        if (eventType is null)
        {
            return $"missing {_map.DescribeType}";
        }
        if (CheckKeyText("eventType", eventType) is { } typeError)
        {
            return typeError;
        }

        string? source = null;
        foreach (var candidate in sources)
        {
            source ??= candidate is null ? null : LenientSource(candidate);
        }
        source ??= _map.IsZeek ? "zeek/" + path : null;
        if (source is null)
        {
            return $"missing {_map.DescribeSource}";
        }
        if (CheckKeyText("sourceIP", source) is { } sourceError)
        {
            return sourceError;
        }
        if (id is not null && CheckKeyText("id", id) is not null)
        {
            id = null; // an unusable eventID is kept as received but not used as the key
        }

        var idFromClient = id is not null;
        fields = new CanonicalFields(id ?? DerivedId(record, context), timestamp.Value, eventType, source, idFromClient, logsource);
        output.Begin();
        output.Header(fields, idFromClient ? record[idRaw.Start..idRaw.End] : [], []);
        foreach (var p in properties)
        {
            if (p.RenameAs < 0)
            {
                output.RawProperty(record[p.NameStart..p.End]);
            }
            else
            {
                output.RawValue(_renamed[p.RenameAs], record[p.ValueStart..p.End]);
            }
        }
        output.End();
        return null;
    }

    private static int IndexOf(ref Utf8JsonReader reader, byte[][] names)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (reader.ValueTextEquals(names[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
