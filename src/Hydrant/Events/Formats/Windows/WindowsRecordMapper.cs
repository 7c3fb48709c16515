using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Hydrant.Events.Formats.Windows;

/// <summary>
/// The <c>windows</c> format: Windows events as JSON, one per line, in the shapes people export:
/// flattened (OTRF/HELK: <c>Channel</c>, <c>EventID</c>, <c>Hostname</c> and the EventData fields
/// at the top), nested (<c>Event.System</c> / <c>Event.EventData</c>, as evtx_dump writes), and
/// Winlogbeat/ECS (<c>winlog.channel</c>, <c>winlog.event_id</c>, <c>winlog.event_data</c>). Each
/// becomes one canonical event (docs/formats.md "windows"): the System fields under the names
/// Sigma rules use (<c>Channel</c>, <c>EventID</c> a number, <c>Computer</c>, <c>Provider_Name</c>),
/// every EventData and UserData field at the top level, and the logsource by channel and EventID
/// (<see cref="WindowsLogsources"/>).
/// </summary>
internal sealed class WindowsRecordMapper : RecordMapper
{
    public static readonly WindowsRecordMapper Instance = new();

    // The canonical names, and the enrichment Hydrant adds at ingest.
    private static readonly string[] CanonicalNames = ["id", "timestamp", "eventType", "sourceIP", "logsource", "enrichment"];

    // Event time, in order of trust. A record with its System element (nested, EVTX) has the
    // Event Log's SystemTime, UTC by construction; Sysmon's UtcTime follows the host's idea of UTC
    // (8 hours off in one of the corpus's EVTX samples). A flattened export keeps SystemTime only
    // sometimes: there Sysmon's UtcTime comes first; @timestamp usually is UTC; TimeCreated and
    // EventTime are often local (OTRF's lab sets).
    private static readonly string[] SystemTimeFirst = ["TimeCreated_SystemTime", "SystemTime", "UtcTime", "@timestamp", "TimeCreated", "EventTime"];
    private static readonly string[] UtcTimeFirst = ["UtcTime", "SystemTime", "TimeCreated_SystemTime", "@timestamp", "TimeCreated", "EventTime"];

    private static readonly string[] AddressFields = ["IpAddress", "SourceIp", "SourceAddress", "ClientAddress", "SourceNetworkAddress"];

    private static readonly string[] LocalTimeFormats = ["yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss"];

    public override string? Map(ReadOnlySpan<byte> record, in MapContext context, CanonicalWriter output, out CanonicalFields fields)
    {
        fields = default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(record.ToArray(), EventShape.DocumentOptions);
        }
        catch (JsonException e)
        {
            return "malformed JSON: " + e.Message;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "record must be a JSON object";
            }
            var windows = new WindowsEvent();
            if (root.TryGetProperty("Event", out var nested) && nested.ValueKind == JsonValueKind.Object && nested.TryGetProperty("System", out var system))
            {
                ReadNested(root, nested, system, windows);
            }
            else if (root.TryGetProperty("winlog", out var winlog) && winlog.ValueKind == JsonValueKind.Object)
            {
                ReadWinlogbeat(root, winlog, windows);
            }
            else
            {
                ReadFlattened(root, windows);
            }
            return Write(record, context, windows, output, out fields);
        }
    }

    /// <summary>What one record says, in whichever shape it came.</summary>
    private sealed class WindowsEvent
    {
        public string? Channel;
        public long? EventId;
        public string? Computer;
        public string? Provider;
        public string[] TimeFields = UtcTimeFirst;

        /// <summary>Every field to write, in order, once each (names compared exactly).</summary>
        public readonly List<(string Name, JsonElement Value)> Fields = [];

        /// <summary>Where each field's name is in <see cref="Fields"/>.</summary>
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

        public void Add(string name, JsonElement value, string prefix)
        {
            // A field named like a canonical one keeps its value under a name of its own.
            var kept = Array.IndexOf(CanonicalNames, name) >= 0 ? "win_" + name : name;
            if (!_index.TryAdd(kept, Fields.Count))
            {
                kept = prefix + "_" + name;
                if (!_index.TryAdd(kept, Fields.Count))
                {
                    return; // the same name three times in one record: the first two are kept
                }
            }
            Fields.Add((kept, value));
        }

        public bool TryGet(string name, out JsonElement value)
        {
            value = default;
            if (!_index.TryGetValue(name, out var at))
            {
                return false;
            }
            value = Fields[at].Value;
            return true;
        }

        public string? Text(string name) => TryGet(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static void ReadFlattened(JsonElement root, WindowsEvent e)
    {
        foreach (var property in root.EnumerateObject())
        {
            e.Add(property.Name, property.Value, "record");
        }
        e.Channel = e.Text("Channel");
        e.EventId = EventIdOf(root, "EventID");
        e.Computer = e.Text("Computer") ?? e.Text("Hostname");
        e.Provider = e.Text("Provider_Name") ?? e.Text("SourceName") ?? e.Text("ProviderName");
    }

    private static void ReadNested(JsonElement root, JsonElement nested, JsonElement system, WindowsEvent e)
    {
        if (system.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in system.EnumerateObject())
            {
                AddSystemField(property, e);
            }
        }
        foreach (var part in new[] { "EventData", "UserData" })
        {
            if (nested.TryGetProperty(part, out var data))
            {
                AddData(data, part, e);
            }
        }
        // What else the exporter put beside the event (its own metadata) stays as it came.
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name != "Event")
            {
                e.Add(property.Name, property.Value, "record");
            }
        }
        e.TimeFields = SystemTimeFirst;
        e.Channel = e.Text("Channel");
        e.EventId = EventIdOf(system, "EventID");
        e.Computer = e.Text("Computer");
        e.Provider = e.Text("Provider_Name");
    }

    /// <summary>A System element: its text, or its XML attributes as <c>{Element}_{Attribute}</c> (Provider_Name, TimeCreated_SystemTime, ...).</summary>
    private static void AddSystemField(JsonProperty property, WindowsEvent e)
    {
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            e.Add(property.Name, value, "System");
            return;
        }
        var attributes = value.TryGetProperty("#attributes", out var a) && a.ValueKind == JsonValueKind.Object ? a : value;
        foreach (var attribute in attributes.EnumerateObject())
        {
            if (attribute.Name != "#text" && attribute.Value.ValueKind != JsonValueKind.Object && attribute.Value.ValueKind != JsonValueKind.Array)
            {
                e.Add(property.Name + "_" + attribute.Name, attribute.Value, "System");
            }
        }
        if (value.TryGetProperty("#text", out var text))
        {
            e.Add(property.Name, text, "System");
        }
    }

    /// <summary>EventData or UserData: named values, as an object, a <c>Data</c> list of Name/#text pairs, or one element holding them (UserData).</summary>
    private static void AddData(JsonElement data, string part, WindowsEvent e)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        foreach (var property in data.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Array when property.Name == "Data":
                    foreach (var item in property.Value.EnumerateArray())
                    {
                        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Name", out var name) && name.ValueKind == JsonValueKind.String)
                        {
                            var value = item.TryGetProperty("#text", out var t) ? t : item.TryGetProperty("Value", out var v) ? v : default;
                            if (value.ValueKind != JsonValueKind.Undefined)
                            {
                                e.Add(name.GetString()!, value, part);
                            }
                        }
                    }
                    break;
                case JsonValueKind.Object when part == "UserData":
                    foreach (var inner in property.Value.EnumerateObject())
                    {
                        if (inner.Name != "#attributes")
                        {
                            e.Add(inner.Name, inner.Value, part);
                        }
                    }
                    break;
                case JsonValueKind.Object when TextOnly(property.Value) is { } text:
                    // evtx_dump's unnamed Data elements: {"#text": [...]}, as the values themselves.
                    e.Add(property.Name, text, part);
                    break;
                default:
                    if (property.Name != "#attributes")
                    {
                        e.Add(property.Name, property.Value, part);
                    }
                    break;
            }
        }
    }

    /// <summary>The <c>#text</c> of an element that holds nothing else but attributes, or null.</summary>
    private static JsonElement? TextOnly(JsonElement element)
    {
        JsonElement? text = null;
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name == "#text")
            {
                text = property.Value;
            }
            else if (property.Name != "#attributes")
            {
                return null;
            }
        }
        return text;
    }

    private static void ReadWinlogbeat(JsonElement root, JsonElement winlog, WindowsEvent e)
    {
        foreach (var part in new[] { "event_data", "user_data" })
        {
            if (winlog.TryGetProperty(part, out var data))
            {
                AddData(data, part == "event_data" ? "EventData" : "UserData", e);
            }
        }
        foreach (var property in root.EnumerateObject())
        {
            e.Add(property.Name, property.Value, "record");
        }
        e.Channel = winlog.TryGetProperty("channel", out var channel) && channel.ValueKind == JsonValueKind.String ? channel.GetString() : null;
        e.EventId = EventIdOf(winlog, "event_id");
        e.Computer = winlog.TryGetProperty("computer_name", out var computer) && computer.ValueKind == JsonValueKind.String ? computer.GetString() : null;
        e.Provider = winlog.TryGetProperty("provider_name", out var provider) && provider.ValueKind == JsonValueKind.String ? provider.GetString() : null;
    }

    /// <summary>An EventID as a number: given as a number, as digits, or as an element with its text (evtx_dump's <c>{"#text": 4688}</c>).</summary>
    private static long? EventIdOf(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("#text", out var text))
        {
            value = text;
        }
        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var n) && n is >= 0 and <= 65535 => n,
            JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 65535 => n,
            _ => null,
        };
    }

    private static string? Write(ReadOnlySpan<byte> record, in MapContext context, WindowsEvent e, CanonicalWriter output, out CanonicalFields fields)
    {
        fields = default;
        if (string.IsNullOrWhiteSpace(e.Channel))
        {
            return "missing Channel (or Event.System.Channel, winlog.channel)";
        }
        if (e.EventId is not { } eventId)
        {
            return "missing EventID (a number from 0 to 65535; or Event.System.EventID, winlog.event_id)";
        }
        if (TimeOf(e) is not { } timestampMs)
        {
            return "no event time: none of UtcTime, SystemTime (Event.System.TimeCreated), @timestamp, TimeCreated, EventTime holds one";
        }
        if (CheckTime(timestampMs, context) is { } future)
        {
            return future;
        }
        var eventType = $"win.{ShortName(e.Channel)}.{eventId.ToString(CultureInfo.InvariantCulture)}";
        if (CheckKeyText("eventType", eventType) is { } typeError)
        {
            return typeError;
        }
        var source = SourceOf(e);
        if (source is null || CheckKeyText("sourceIP", source) is not null)
        {
            return "no source: none of IpAddress, SourceIp, SourceAddress holds an address and the event names no Computer (or Hostname)";
        }

        var logsource = WindowsLogsources.Default.LogsourceOf(e.Channel, eventId);
        fields = new CanonicalFields(DerivedId(record, context), timestampMs, eventType, source, IdFromClient: false, logsource);
        output.Begin();
        output.Header(fields, [], []);
        output.String("Channel"u8, e.Channel);
        output.Number("EventID"u8, eventId);
        var written = new HashSet<string>(StringComparer.Ordinal) { "Channel", "EventID" };
        if (e.Computer is not null && written.Add("Computer"))
        {
            output.String("Computer"u8, e.Computer);
        }
        if (e.Provider is not null && written.Add("Provider_Name"))
        {
            output.String("Provider_Name"u8, e.Provider);
        }
        foreach (var (name, value) in e.Fields)
        {
            if (written.Add(name))
            {
                output.RawValue(Encoding.UTF8.GetBytes(name), JsonMarshal.GetRawUtf8Value(value));
            }
        }
        if (WindowsLogsources.Default.AddedFieldsOf(e.Channel, eventId) is { } added)
        {
            foreach (var (own, name) in added)
            {
                if (e.TryGet(own, out var value) && written.Add(name))
                {
                    output.RawValue(Encoding.UTF8.GetBytes(name), JsonMarshal.GetRawUtf8Value(value));
                }
            }
        }
        output.End();
        return null;
    }

    /// <summary>The channel's Sigma service name (sysmon, security, powershell, ...), else the channel in lower case with '-' for what is not a letter or digit.</summary>
    private static string ShortName(string channel)
    {
        if (WindowsLogsources.Default.ServiceOf(channel) is { } service)
        {
            return service;
        }
        var text = new StringBuilder(Math.Min(channel.Length, 64));
        foreach (var c in channel.Trim())
        {
            if (text.Length == 64)
            {
                break;
            }
            text.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        }
        return text.ToString();
    }

    private static long? TimeOf(WindowsEvent e)
    {
        foreach (var name in e.TimeFields)
        {
            if (!e.TryGet(name, out var value))
            {
                continue;
            }
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var ms) && ms is >= 0 and <= Timestamps.MaxEpochMs)
            {
                return ms;
            }
            if (value.ValueKind != JsonValueKind.String)
            {
                continue;
            }
            var text = value.GetString()!;
            if (Timestamps.TryParse(text, out ms))
            {
                return ms;
            }
            // Without an offset the time is taken as UTC (docs/formats.md says which fields are).
            if (DateTime.TryParseExact(text.Trim(), LocalTimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var utc))
            {
                return new DateTimeOffset(utc, TimeSpan.Zero).ToUnixTimeMilliseconds();
            }
        }
        return null;
    }

    private static string? SourceOf(WindowsEvent e)
    {
        foreach (var name in AddressFields)
        {
            if (e.Text(name) is { } text && SourceAddress.TryNormalizeIp(text.Trim(), out var ip))
            {
                return ip;
            }
        }
        return e.Computer is { Length: > 0 } computer ? LenientSource(computer) : null;
    }
}
