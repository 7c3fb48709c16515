using System.Buffers;
using System.Text.Json;

namespace Hydrant.Events.Formats.Evtx;

/// <summary>
/// EVTX records as the nested Windows JSON the <c>windows</c> format reads (evtx_dump's shape:
/// <c>{"Event":{"System":{...},"EventData":{...}}}</c>, attributes under <c>#attributes</c>, text
/// under <c>#text</c>), one line per record, so a file's events take the same path as exported ones.
/// </summary>
public static class EvtxJson
{
    /// <summary>Appends one line per record of <paramref name="file"/>; each record (or run of bytes) that cannot be read is named in <paramref name="unreadable"/>, checksum notices are not.</summary>
    public static int WriteNdjson(EvtxFile file, IBufferWriter<byte> output, List<string> unreadable)
    {
        var written = 0;
        foreach (var record in file.Records())
        {
            if (TryWrite(file, record, output) is { } error)
            {
                unreadable.Add(error);
                continue;
            }
            output.GetSpan(1)[0] = (byte)'\n';
            output.Advance(1);
            written++;
        }
        foreach (var problem in file.Problems.Where(p => p.RecordsLost))
        {
            unreadable.Add($"at byte {problem.Offset}: {problem.What}");
        }
        return written;
    }

    /// <summary>Writes the record as one JSON object (no newline), or answers why it cannot be read, naming the record.</summary>
    public static string? TryWrite(EvtxFile file, EvtxRecord record, IBufferWriter<byte> output)
    {
        XmlNode root;
        try
        {
            root = file.ReadEvent(record);
        }
        catch (BinXmlException e)
        {
            return $"record {record.RecordId} (chunk {record.Chunk}): {e.Message}";
        }
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WritePropertyName("Event");
        WriteElement(root, json);
        json.WriteEndObject();
        json.Flush();
        return null;
    }

    private static void WriteElement(XmlNode node, Utf8JsonWriter json)
    {
        if (node.Attributes.Count == 0 && node.Children.Count == 0)
        {
            // An empty element is null, as evtx_dump writes it (a named Data value stays "").
            if (node.HasText && node.Text.Length > 0)
            {
                json.WriteStringValue(node.Text.ToString());
            }
            else
            {
                json.WriteNullValue();
            }
            return;
        }
        json.WriteStartObject();
        if (node.Attributes.Count > 0)
        {
            json.WriteStartObject("#attributes");
            foreach (var (name, value) in node.Attributes.DistinctBy(a => a.Name))
            {
                json.WriteString(name, value);
            }
            json.WriteEndObject();
        }
        if (node.Name == "EventData")
        {
            WriteEventData(node, json);
        }
        else
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var child in node.Children)
            {
                json.WritePropertyName(Unique(child.Name, seen));
                WriteElement(child, json);
            }
        }
        if (node.HasText && node.Text.Length > 0)
        {
            json.WriteString("#text", node.Text.ToString());
        }
        json.WriteEndObject();
    }

    /// <summary>
    /// EventData: each <c>Data Name="X"</c> as X; the unnamed <c>Data</c> elements together as
    /// <c>"Data": {"#text": [...]}</c> (one alone: its text), at the place of the first; other
    /// children as elements.
    /// </summary>
    private static void WriteEventData(XmlNode node, Utf8JsonWriter json)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var unnamed = node.Children.Where(IsUnnamedData).ToList();
        var unnamedWritten = false;
        foreach (var child in node.Children)
        {
            if (IsUnnamedData(child))
            {
                if (!unnamedWritten)
                {
                    json.WritePropertyName(Unique("Data", seen));
                    json.WriteStartObject();
                    json.WritePropertyName("#text");
                    if (unnamed.Count == 1)
                    {
                        json.WriteStringValue(unnamed[0].Text.ToString());
                    }
                    else
                    {
                        json.WriteStartArray();
                        foreach (var data in unnamed)
                        {
                            json.WriteStringValue(data.Text.ToString());
                        }
                        json.WriteEndArray();
                    }
                    json.WriteEndObject();
                    unnamedWritten = true;
                }
                continue;
            }
            if (child.Name == "Data" && child.Attributes.FirstOrDefault(a => a.Name == "Name").Value is { Length: > 0 } name)
            {
                json.WriteString(Unique(name, seen), child.Text.ToString());
                continue;
            }
            json.WritePropertyName(Unique(child.Name, seen));
            WriteElement(child, json);
        }
    }

    private static bool IsUnnamedData(XmlNode node) =>
        node.Name == "Data" && !node.Attributes.Any(a => a.Name == "Name" && a.Value.Length > 0);

    /// <summary>A name met again among its siblings gets <c>_1</c>, <c>_2</c>, ..., as evtx_dump writes it.</summary>
    private static string Unique(string name, Dictionary<string, int> seen)
    {
        var count = seen.GetValueOrDefault(name);
        seen[name] = count + 1;
        return count == 0 ? name : $"{name}_{count}";
    }
}
