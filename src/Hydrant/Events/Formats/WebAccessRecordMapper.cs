using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Hydrant.Events.Formats;

/// <summary>
/// Web server access logs in the Common or Combined Log Format (Apache, nginx). Fields are named
/// as in Sigma's webserver taxonomy (c-ip, cs-method, c-uri, cs-uri-stem, cs-uri-query,
/// c-uri-extension, cs-version, sc-status, sc-bytes, cs-referer, c-useragent, cs-username), so
/// SigmaHQ's web rules run as written; the line itself is kept as <c>message</c>.
/// </summary>
internal sealed partial class WebAccessRecordMapper : RecordMapper
{
    public static readonly WebAccessRecordMapper Instance = new();

    private static readonly EventLogsource Webserver = new(null, null, "webserver");

    [GeneratedRegex("""^(?<ip>\S+) (?<ident>\S+) (?<user>\S+) \[(?<time>[^\]]+)\] "(?<request>(?:[^"\\]|\\.)*)" (?<status>\d{3}|-) (?<bytes>\d+|-)(?: "(?<referer>(?:[^"\\]|\\.)*)" "(?<agent>(?:[^"\\]|\\.)*)")?""", RegexOptions.ExplicitCapture)]
    private static partial Regex Line();

    public override string? Map(ReadOnlySpan<byte> record, in MapContext context, CanonicalWriter output, out CanonicalFields fields)
    {
        fields = default;
        var line = Encoding.UTF8.GetString(record).TrimEnd();
        var match = Line().Match(line);
        if (!match.Success)
        {
            return "not a Common or Combined Log Format access log line";
        }
        if (!TryParseTime(match.Groups["time"].Value, out var timestampMs))
        {
            return $"time '{match.Groups["time"].Value}' is not dd/MMM/yyyy:HH:mm:ss +hhmm";
        }
        if (CheckTime(timestampMs, context) is { } future)
        {
            return future;
        }
        var source = LenientSource(match.Groups["ip"].Value);
        if (CheckKeyText("sourceIP", source) is { } sourceError)
        {
            return sourceError;
        }

        fields = new CanonicalFields(DerivedId(record, context), timestampMs, "http.request", source, IdFromClient: false, Webserver);
        output.Begin();
        output.Header(fields, [], []);
        output.String("c-ip"u8, match.Groups["ip"].Value);
        if (match.Groups["user"].Value is var user and not "-")
        {
            output.String("cs-username"u8, user);
        }
        var request = match.Groups["request"].Value;
        var parts = request.Split(' ');
        if (parts.Length == 3)
        {
            var uri = parts[1];
            var question = uri.IndexOf('?', StringComparison.Ordinal);
            var stem = question < 0 ? uri : uri[..question];
            output.String("cs-method"u8, parts[0]);
            output.String("c-uri"u8, uri);
            output.String("cs-uri-stem"u8, stem);
            if (question >= 0)
            {
                output.String("cs-uri-query"u8, uri[(question + 1)..]);
            }
            var lastSegment = stem[(stem.LastIndexOf('/') + 1)..];
            if (lastSegment.LastIndexOf('.') is var dot and > 0)
            {
                output.String("c-uri-extension"u8, lastSegment[(dot + 1)..]);
            }
            output.String("cs-version"u8, parts[2]);
        }
        else
        {
            output.String("c-uri"u8, request); // not "METHOD URI PROTOCOL": a probe or garbage, kept as sent
        }
        if (long.TryParse(match.Groups["status"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            output.Number("sc-status"u8, status);
        }
        if (long.TryParse(match.Groups["bytes"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
        {
            output.Number("sc-bytes"u8, bytes);
        }
        if (match.Groups["referer"].Success && match.Groups["referer"].Value is var referer and not "-")
        {
            output.String("cs-referer"u8, referer);
        }
        if (match.Groups["agent"].Success && match.Groups["agent"].Value is var agent and not "-")
        {
            output.String("c-useragent"u8, agent);
        }
        output.String("message"u8, line);
        output.End();
        return null;
    }

    /// <summary>17/May/2015:10:05:03 +0000</summary>
    private static bool TryParseTime(string text, out long epochMs)
    {
        epochMs = 0;
        if (text.Length != 26 || text[20] != ' ' || text[21] is not ('+' or '-')
            || !DateTime.TryParseExact(text[..20], "dd/MMM/yyyy:HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var local)
            || !int.TryParse(text.AsSpan(22, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(text.AsSpan(24, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes))
        {
            return false;
        }
        var offset = new TimeSpan(hours, minutes, 0) * (text[21] == '-' ? -1 : 1);
        epochMs = new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), offset).ToUnixTimeMilliseconds();
        return true;
    }
}
