namespace Hydrant.Events.Formats;

/// <summary>The input formats of CONTRACT.md ("Input formats"), named as in <c>?format=</c>.</summary>
public enum InputFormat
{
    Json,
    CloudTrail,
    Zeek,
    Syslog,
    Web,
    Windows,

    /// <summary>Windows XML Event Log files, the binary format: read into <see cref="Windows"/> events.</summary>
    Evtx,
}

/// <summary>How one request's body is to be read. Built per request from its query string.</summary>
public sealed record ParseOptions
{
    public static ParseOptions Json { get; } = new();

    public InputFormat Format { get; init; } = InputFormat.Json;

    /// <summary>Zeek log type for records that carry neither <c>_path</c> nor <c>@stream</c>.</summary>
    public string? ZeekPath { get; init; }

    /// <summary>Year for RFC 3164 syslog lines, which carry none; by default the one that puts the line closest before now.</summary>
    public int? SyslogYear { get; init; }

    /// <summary>
    /// Names the stream the records come from, across requests (`hydrant ingest` sends a hash of
    /// the file's head); none: the request body itself is the stream. Ids derived for records
    /// without one depend on it and on <see cref="Position"/>.
    /// </summary>
    public string? Stream { get; init; }

    /// <summary>The number, in its stream, of the request's first record; for <see cref="InputFormat.Evtx"/>, the number in the file of the body's first chunk.</summary>
    public long Position { get; init; }

    /// <summary>
    /// Events may bring their own <c>enrichment</c> (events once stored by Hydrant, hunted or
    /// tested offline); ingest refuses it, since Hydrant sets it there.
    /// </summary>
    public bool KeepEnrichment { get; init; }

    public static IReadOnlyList<string> Names { get; } = ["json", "cloudtrail", "zeek", "syslog", "web", "windows", "evtx"];

    public static bool TryParseFormat(string? name, out InputFormat format)
    {
        format = InputFormat.Json;
        switch (name)
        {
            case null or "" or "json":
                return true;
            case "cloudtrail":
                format = InputFormat.CloudTrail;
                return true;
            case "zeek":
                format = InputFormat.Zeek;
                return true;
            case "syslog":
                format = InputFormat.Syslog;
                return true;
            case "web":
                format = InputFormat.Web;
                return true;
            case "windows":
                format = InputFormat.Windows;
                return true;
            case "evtx":
                format = InputFormat.Evtx;
                return true;
            default:
                return false;
        }
    }
}
