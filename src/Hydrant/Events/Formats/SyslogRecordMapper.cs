using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Hydrant.Events.Formats;

/// <summary>
/// Syslog lines, RFC 5424 or RFC 3164. Every event keeps host, program, pid and message (the text
/// after the tag), plus facility and severity when the line has a priority. sshd authentication
/// lines become <c>ssh.auth.failure</c> / <c>ssh.auth.success</c> with the client address as the
/// source; other lines are <c>syslog.{program}</c> from the host. RFC 3164 has neither year nor
/// zone: times are taken as UTC, in the year that puts the line closest before the time of
/// ingest, or in <see cref="ParseOptions.SyslogYear"/>.
/// </summary>
internal sealed partial class SyslogRecordMapper : RecordMapper
{
    public static readonly SyslogRecordMapper Instance = new();

    private static readonly EventLogsource Sshd = new("linux", "sshd");
    private static readonly EventLogsource Syslog = new("linux", "syslog");

    private static readonly string[] Facilities =
        ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
         "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];

    private static readonly string[] Severities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

    [GeneratedRegex(@"^<(?<pri>\d{1,3})>(?<ver>[1-9]\d{0,2}) (?<ts>\S+) (?<host>\S+) (?<app>\S+) (?<procid>\S+) (?<msgid>\S+) (?<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?<msg>.*))?$", RegexOptions.ExplicitCapture | RegexOptions.Singleline)]
    private static partial Regex Rfc5424();

    [GeneratedRegex(@"^(?:<(?<pri>\d{1,3})>)?(?<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?<day>\d{1,2}) (?<time>\d{2}:\d{2}:\d{2}) (?<host>\S+) (?<tag>[^\s:\[(]+(?:\([^)\s]*\))?)(?:\[(?<pid>[^\]\s]*)\])?:(?: (?<msg>.*))?$", RegexOptions.ExplicitCapture | RegexOptions.Singleline)]
    private static partial Regex Rfc3164();

    /// <summary>The RFC 3164 header alone, for lines whose tag is not "name[pid]:" (RFC 3164 ends a tag at any non-alphanumeric character).</summary>
    [GeneratedRegex(@"^(?:<(?<pri>\d{1,3})>)?(?<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?<day>\d{1,2}) (?<time>\d{2}:\d{2}:\d{2}) (?<host>\S+) +(?:[^\w\s]+ +)?(?<tag>[\w./-]+)(?:\[(?<pid>[^\]\s]*)\])?:? ?(?<msg>.*)$", RegexOptions.ExplicitCapture | RegexOptions.Singleline)]
    private static partial Regex Rfc3164Lenient();

    [GeneratedRegex(@"^Failed (?<method>\S+) for (?:invalid user )?(?<user>.*?) from (?<ip>\S+) port (?<port>\d+)", RegexOptions.ExplicitCapture)]
    private static partial Regex SshFailed();

    [GeneratedRegex(@"^Accepted (?<method>\S+) for (?<user>.*?) from (?<ip>\S+) port (?<port>\d+)", RegexOptions.ExplicitCapture)]
    private static partial Regex SshAccepted();

    [GeneratedRegex(@"authentication failure;.*?\brhost=(?<ip>\S+)(?:.*?\buser=(?<user>\S+))?", RegexOptions.ExplicitCapture)]
    private static partial Regex PamFailure();

    [GeneratedRegex(@"(?:\bfrom |\brhost=|\[)(?<ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]+)\b", RegexOptions.ExplicitCapture)]
    private static partial Regex AnyAddress();

    public override string? Map(ReadOnlySpan<byte> record, in MapContext context, CanonicalWriter output, out CanonicalFields fields)
    {
        fields = default;
        var line = Encoding.UTF8.GetString(record).TrimEnd();
        string? error = null;
        var parsed = Parse5424(line, context) ?? Parse3164(line, context, out error);
        if (parsed is null)
        {
            return error ?? "not an RFC 5424 or RFC 3164 syslog line";
        }
        var p = parsed.Value;
        if (CheckTime(p.TimestampMs, context) is { } future)
        {
            return future;
        }

        var programBase = ProgramBase(p.Program);
        var eventType = "syslog." + programBase;
        var source = p.Host;
        string? user = null, method = null;
        int? port = null;
        var isSshd = programBase == "sshd";
        if (isSshd)
        {
            if (SshFailed().Match(p.Message) is { Success: true } failed)
            {
                (eventType, source, user, method, port) = ("ssh.auth.failure", failed.Groups["ip"].Value, failed.Groups["user"].Value, failed.Groups["method"].Value, PortOf(failed));
            }
            else if (SshAccepted().Match(p.Message) is { Success: true } accepted)
            {
                (eventType, source, user, method, port) = ("ssh.auth.success", accepted.Groups["ip"].Value, accepted.Groups["user"].Value, accepted.Groups["method"].Value, PortOf(accepted));
            }
            else if (p.Program == "sshd(pam_unix)" && PamFailure().Match(p.Message) is { Success: true } pam)
            {
                // Old sshd logs record a failure only through PAM. Newer ones log "pam_unix(sshd:auth)"
                // lines as well as "Failed password": only the latter counts there, or every failure would count twice.
                eventType = "ssh.auth.failure";
                source = pam.Groups["ip"].Value;
                user = pam.Groups["user"].Success ? pam.Groups["user"].Value : null;
            }
            else if (AnyAddress().Match(p.Message) is { Success: true } address)
            {
                source = address.Groups["ip"].Value;
            }
        }
        source = LenientSource(source);
        if (CheckKeyText("sourceIP", source) is { } sourceError)
        {
            return sourceError;
        }
        if (CheckKeyText("eventType", eventType) is { } typeError)
        {
            return typeError;
        }

        fields = new CanonicalFields(DerivedId(record, context), p.TimestampMs, eventType, source, IdFromClient: false, isSshd ? Sshd : Syslog);
        output.Begin();
        output.Header(fields, [], []);
        output.String("host"u8, p.Host);
        output.String("program"u8, p.Program);
        if (p.Pid is { Length: > 0 } pid)
        {
            if (long.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                output.Number("pid"u8, number);
            }
            else
            {
                output.String("pid"u8, pid);
            }
        }
        output.String("message"u8, p.Message);
        if (p.Priority is { } priority)
        {
            output.String("facility"u8, priority / 8 < Facilities.Length ? Facilities[priority / 8] : (priority / 8).ToString(CultureInfo.InvariantCulture));
            output.String("severity"u8, Severities[priority % 8]);
        }
        if (p.MsgId is { } msgId)
        {
            output.String("msgid"u8, msgId);
        }
        if (p.StructuredData is { } sd)
        {
            output.String("structuredData"u8, sd);
        }
        if (user is { Length: > 0 })
        {
            output.String("user"u8, user);
        }
        if (method is not null)
        {
            output.String("authMethod"u8, method);
        }
        if (port is { } sourcePort)
        {
            output.Number("sourcePort"u8, sourcePort);
        }
        output.End();
        return null;
    }

    private readonly record struct Line(long TimestampMs, string Host, string Program, string? Pid, string Message, int? Priority, string? MsgId, string? StructuredData);

    private static Line? Parse5424(string line, in MapContext context)
    {
        var match = Rfc5424().Match(line);
        if (!match.Success || !TryPriority(match, out var priority))
        {
            return null;
        }
        var ts = match.Groups["ts"].Value;
        long timestampMs;
        if (ts == "-")
        {
            timestampMs = context.NowMs; // NILVALUE: the time of ingest stands in
        }
        else if (!Timestamps.TryParse(ts, out timestampMs))
        {
            return null;
        }
        var message = match.Groups["msg"].Value;
        if (message.StartsWith('\uFEFF'))
        {
            message = message[1..];
        }
        return new Line(timestampMs, Nil(match.Groups["host"].Value) ?? "-", Nil(match.Groups["app"].Value) ?? "-", Nil(match.Groups["procid"].Value),
            message, priority, Nil(match.Groups["msgid"].Value), Nil(match.Groups["sd"].Value));
    }

    private static Line? Parse3164(string line, in MapContext context, out string? error)
    {
        error = null;
        var match = Rfc3164().Match(line);
        if (!match.Success)
        {
            match = Rfc3164Lenient().Match(line);
        }
        if (!match.Success || !TryPriority(match, out var priority))
        {
            return null;
        }
        var month = Array.IndexOf(CultureInfo.InvariantCulture.DateTimeFormat.AbbreviatedMonthNames, match.Groups["mon"].Value) + 1;
        var day = int.Parse(match.Groups["day"].Value, CultureInfo.InvariantCulture);
        if (!TimeOnly.TryParseExact(match.Groups["time"].Value, "HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            error = $"syslog: invalid time '{match.Groups["time"].Value}'";
            return null;
        }
        var now = DateTime.UnixEpoch.AddMilliseconds(context.NowMs);
        var latest = now + context.Limits.MaxFutureSkew;
        DateTime? when = null;
        if (context.Options.SyslogYear is { } year)
        {
            when = TryDate(year, month, day, time);
        }
        else
        {
            // The latest year that does not put the line in the future.
            for (var candidate = now.Year; candidate >= now.Year - 8 && when is null; candidate--)
            {
                if (TryDate(candidate, month, day, time) is { } date && date <= latest)
                {
                    when = date;
                }
            }
        }
        if (when is null)
        {
            error = $"syslog: {match.Groups["mon"].Value} {day} does not exist in the year{(context.Options.SyslogYear is { } y ? " " + y.ToString(CultureInfo.InvariantCulture) : " inferred")}";
            return null;
        }
        var timestampMs = (long)(when.Value - DateTime.UnixEpoch).TotalMilliseconds;
        return new Line(timestampMs, match.Groups["host"].Value, match.Groups["tag"].Value,
            match.Groups["pid"].Success ? match.Groups["pid"].Value : null, match.Groups["msg"].Value, priority, null, null);
    }

    private static DateTime? TryDate(int year, int month, int day, TimeOnly time) =>
        year is >= 1970 and <= 9999 && day >= 1 && day <= DateTime.DaysInMonth(year, month)
            ? new DateTime(new DateOnly(year, month, day), time, DateTimeKind.Utc)
            : null;

    private static bool TryPriority(Match match, out int? priority)
    {
        priority = null;
        if (!match.Groups["pri"].Success)
        {
            return true;
        }
        var value = int.Parse(match.Groups["pri"].Value, CultureInfo.InvariantCulture);
        priority = value;
        return value <= 191;
    }

    private static string? Nil(string value) => value == "-" ? null : value;

    /// <summary>"sshd(pam_unix)" and "sshd" are both sshd.</summary>
    private static string ProgramBase(string program)
    {
        var paren = program.IndexOf('(', StringComparison.Ordinal);
        return paren > 0 ? program[..paren] : program;
    }

    private static int? PortOf(Match match) =>
        int.TryParse(match.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
}
