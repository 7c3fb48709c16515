using System.Text.Json;

namespace Hydrant.Events.Formats;

/// <summary>How a file of events must be read: whole, or line by line.</summary>
public static class FileShape
{
    /// <summary>
    /// True for a JSON array or a JSON object that spans lines (a CloudTrail Records file, a
    /// pretty-printed event): those are one document and must be read whole. Syslog never is.
    /// Leaves the stream at its start.
    /// </summary>
    public static async Task<bool> IsWholeDocumentAsync(FileStream stream, InputFormat format, CancellationToken cancellationToken)
    {
        if (format is InputFormat.Syslog or InputFormat.Web)
        {
            return false;
        }
        var head = new byte[64 * 1024];
        var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        stream.Position = 0;
        var span = head.AsSpan(0, read).TrimStart("\uFEFF \t\r\n"u8);
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
}
