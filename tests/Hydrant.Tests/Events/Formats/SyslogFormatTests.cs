using System.Text;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events.Formats;

public sealed class SyslogFormatTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly ParseOptions Syslog = new() { Format = InputFormat.Syslog };
    private static readonly EventParser Parser = new(EventLimits.Default, new FixedClock(Now));

    private static JsonElement Json(SecurityEvent e) => JsonDocument.Parse(e.Json).RootElement;

    [Fact]
    public void Every_openssh_line_ingests_and_sshd_authentication_lines_are_typed_with_the_client_address()
    {
        var path = Corpus.Path("logs", "loghub", "OpenSSH", "OpenSSH_2k.log");
        var lines = File.ReadAllLines(path);
        using var batch = Parser.Parse(File.ReadAllBytes(path), Syslog);

        Assert.Empty(batch.Rejections);
        Assert.Equal(lines.Length, batch.Events.Count);
        var failures = lines.Count(l => l.Contains("]: Failed ", StringComparison.Ordinal) && l.Contains(" port ", StringComparison.Ordinal));
        var successes = lines.Count(l => l.Contains("]: Accepted ", StringComparison.Ordinal));
        Assert.Equal(failures, batch.Events.Count(e => e.EventType == "ssh.auth.failure"));
        Assert.Equal(successes, batch.Events.Count(e => e.EventType == "ssh.auth.success"));

        // "Dec 10 06:55:48 LabSZ sshd[24203]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2"
        var index = Array.FindIndex(lines, l => l.Contains("Failed password for invalid user webmaster", StringComparison.Ordinal));
        var e = batch.Events[index];
        var stored = Json(e);
        Assert.Equal("173.234.31.186", e.SourceIP);
        Assert.Equal("webmaster", stored.GetProperty("user").GetString());
        Assert.Equal("password", stored.GetProperty("authMethod").GetString());
        Assert.Equal("LabSZ", stored.GetProperty("host").GetString());
        Assert.Equal("sshd", stored.GetProperty("program").GetString());
        Assert.Equal(JsonValueKind.Number, stored.GetProperty("pid").ValueKind);
        Assert.StartsWith("Failed password", stored.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("sshd", stored.GetProperty("logsource").GetProperty("service").GetString());
        // No year on the line: December 10 closest before 2026-11-24 is in 2025.
        Assert.StartsWith("2025-12-10T", stored.GetProperty("timestamp").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_linux_syslog_line_ingests_and_pam_only_sshd_failures_count()
    {
        var path = Corpus.Path("logs", "loghub", "Linux", "Linux_2k.log");
        var lines = File.ReadAllLines(path);
        using var batch = Parser.Parse(File.ReadAllBytes(path), Syslog);

        Assert.Empty(batch.Rejections);
        Assert.Equal(lines.Length, batch.Events.Count);
        var pamFailures = lines.Count(l => l.Contains("sshd(pam_unix)", StringComparison.Ordinal) && l.Contains("authentication failure;", StringComparison.Ordinal));
        Assert.Equal(pamFailures, batch.Events.Count(e => e.EventType == "ssh.auth.failure"));
        Assert.Contains(batch.Events, e => e.EventType == "ssh.auth.failure" && e.SourceIP == "218.188.2.4");
        var restart = batch.Events.First(e => Json(e).GetProperty("message").GetString()!.EndsWith("restart.", StringComparison.Ordinal));
        Assert.Equal("syslogd", Json(restart).GetProperty("program").GetString());
        Assert.Equal("syslog", Json(restart).GetProperty("logsource").GetProperty("service").GetString());
        Assert.Equal("combo", restart.SourceIP);
    }

    [Fact]
    public void The_year_parameter_replaces_inference()
    {
        using var batch = Parser.Parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186"u8, Syslog with { SyslogYear = 2019 });
        Assert.Equal(new DateTimeOffset(2019, 12, 10, 6, 55, 46, TimeSpan.Zero).ToUnixTimeMilliseconds(), Assert.Single(batch.Events).TimestampMs);
        Assert.Equal("173.234.31.186", batch.Events[0].SourceIP);
        Assert.Equal("syslog.sshd", batch.Events[0].EventType);
    }

    [Fact]
    public void Rfc5424_lines_keep_priority_message_id_and_structured_data()
    {
        using var batch = Parser.Parse(Encoding.UTF8.GetBytes(
            "<38>1 2026-11-24T10:00:00.123Z bastion sshd 4242 - [meta sequenceId=\"1\"] Accepted publickey for deploy from 2001:db8::7 port 50022 ssh2\n" +
            "<13>1 2026-11-24T10:00:01Z web-01 app - ID47 - \uFEFFstarted\n" +
            "<999>1 2026-11-24T10:00:01Z web-01 app - ID47 - bad priority\n"), Syslog);
        Assert.Equal(2, batch.Events.Count);
        var accepted = Json(batch.Events[0]);
        Assert.Equal("ssh.auth.success", batch.Events[0].EventType);
        Assert.Equal("2001:db8::7", batch.Events[0].SourceIP);
        Assert.Equal("auth", accepted.GetProperty("facility").GetString());
        Assert.Equal("info", accepted.GetProperty("severity").GetString());
        Assert.Equal("[meta sequenceId=\"1\"]", accepted.GetProperty("structuredData").GetString());
        Assert.Equal(50022, accepted.GetProperty("sourcePort").GetInt32());
        var started = Json(batch.Events[1]);
        Assert.Equal("started", started.GetProperty("message").GetString());
        Assert.Equal("ID47", started.GetProperty("msgid").GetString());
        Assert.Equal("syslog.app", batch.Events[1].EventType);
        Assert.Equal(2, Assert.Single(batch.Rejections).Index);
    }

    [Fact]
    public void Lines_that_are_not_syslog_are_rejected_with_the_reason()
    {
        using var batch = Parser.Parse("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\nFeb 30 10:00:00 host prog: no such day\n"u8, Syslog with { SyslogYear = 2026 });
        Assert.Empty(batch.Events);
        Assert.Equal("not an RFC 5424 or RFC 3164 syslog line", batch.Rejections[0].Error);
        Assert.Contains("Feb 30 does not exist", batch.Rejections[1].Error, StringComparison.Ordinal);
    }
}
