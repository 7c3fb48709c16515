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
            if (node.HasText)
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
            foreach (var group in node.Children.GroupBy(c => c.Name))
            {
                json.WritePropertyName(group.Key);
                if (group.Count() == 1)
                {
                    WriteElement(group.First(), json);
                    continue;
                }
                json.WriteStartArray();
                foreach (var child in group)
                {
                    WriteElement(child, json);
                }
                json.WriteEndArray();
            }
        }
        if (node.HasText && node.Text.Length > 0)
        {
            json.WriteString("#text", node.Text.ToString());
        }
        json.WriteEndObject();
    }

    /// <summary>EventData: each <c>Data Name="X"</c> as X; unnamed ones (and other children) listed under their element name.</summary>
    private static void WriteEventData(XmlNode node, Utf8JsonWriter json)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var data in node.Children.Where(c => c.Name == "Data" && c.Attributes.Any(a => a.Name == "Name")))
        {
            var name = data.Attributes.First(a => a.Name == "Name").Value;
            if (name.Length > 0 && names.Add(name))
            {
                json.WriteString(name, data.Text.ToString());
            }
        }
        foreach (var group in node.Children.Where(c => c.Name != "Data" || c.Attributes.All(a => a.Name != "Name")).GroupBy(c => c.Name))
        {
            if (!names.Add(group.Key))
            {
                continue;
            }
            json.WriteStartArray(group.Key);
            foreach (var child in group)
            {
                json.WriteStringValue(child.Text.ToString());
            }
            json.WriteEndArray();
        }
    }
}
