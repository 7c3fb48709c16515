using System.Text.Json;

namespace Hydrant.Events.Formats;

/// <summary>How a file of events must be read: whole, or line by line.</summary>
public static class FileShape
{
    /// <summary>
    /// True for a JSON array or a JSON object that spans lines (a CloudTrail Records file, a
    /// pretty-printed event), judged from the input's first bytes: those are one document and
    /// must be read whole. Syslog and web logs never are.
    /// </summary>
    public static bool IsWholeDocument(ReadOnlySpan<byte> head, InputFormat format)
    {
        if (format is InputFormat.Syslog or InputFormat.Web)
        {
            return false;
        }
        var span = head.TrimStart("\uFEFF \t\r\n"u8);
        if (span.IsEmpty)
        {
            return false;
        }
        if (span[0] == (byte)'[')
        {
            return true;
        }
        var newline = span.IndexOf((byte)'\n');
        if (span[0] != (byte)'{' || newline < 0)
        {
            return false;
        }
        var reader = new Utf8JsonReader(span[..newline], isFinalBlock: false, default);
        try
        {
            reader.Read();
            return !reader.TrySkip();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A line the server skips as blank (only spaces, tabs and carriage returns): it gets no record number.</summary>
    public static bool IsBlank(ReadOnlySpan<byte> line) => line.TrimStart(" \t\r"u8).IsEmpty;
}
