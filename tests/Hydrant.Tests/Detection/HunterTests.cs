using System.Text;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Hunt;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Generation;

namespace Hydrant.Tests.Detection;

public sealed class HunterTests
{
    private const string FailureRule = """
        title: Auth Failure
        id: 11111111-2222-4333-8444-555555555555
        logsource:
            product: hydrant
        detection:
            selection:
                eventType: auth.failure
            condition: selection
        level: low
        """;

    [Fact]
    public async Task A_file_spanning_many_chunks_yields_one_alert_per_match_in_file_order_with_exact_rejection_lines()
    {
        var end = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        using var buffer = new PooledBuffer();
        new EventGenerator(new GeneratorOptions { Count = 12_000, SizeBytes = 1024, EndMs = end.ToUnixTimeMilliseconds() }).WriteNdjson(buffer);
        var lines = Encoding.UTF8.GetString(buffer.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        lines.Insert(9000, "this line is not JSON"); // past the first 4 MiB chunk
        var file = Path.Combine(Path.GetTempPath(), "hunt-" + Guid.NewGuid().ToString("N") + ".ndjson");
        await File.WriteAllLinesAsync(file, lines);
        try
        {
            var rules = new RuleSet([new LoadedDocument(new SigmaCompiler(SigmaOptions.Default).Compile(FailureRule), "test")], []);
            var hunter = new Hunter(rules, new EventParser(EventLimits.Default, new FixedClock(end)), ParseOptions.Json) { Workers = 3 };
            var alerts = new List<Alert>();
            var rejected = new List<string>();
            var summary = await hunter.RunAsync([file], a => { alerts.Add(a); return ValueTask.CompletedTask; }, new HuntReporting { Rejected = rejected.Add }, CancellationToken.None);

            var expected = lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => e.GetProperty("eventType").GetString() == "auth.failure").Select(e => e.GetProperty("id").GetString()).ToList();
            Assert.Equal(expected, alerts.Select(a => a.Events[0].Id));
            Assert.All(alerts, a => Assert.Equal(1, a.Count));
            // Each event names its line: the line in the file holds that event's id.
            var fileLines = await File.ReadAllLinesAsync(file);
            Assert.All(alerts, a => Assert.Contains($"\"id\":\"{a.Events[0].Id}\"", fileLines[(int)a.Events[0].Record!.Value - 1], StringComparison.Ordinal));
            Assert.All(alerts, a => Assert.Equal(file, a.Events[0].File));
            Assert.Equal(alerts.Count, summary.ByFile[file]);
            Assert.Equal(12_000, summary.Events);
            Assert.Equal(1, summary.Rejected);
            Assert.Equal($"{file}:9001: malformed JSON", Assert.Single(rejected)[..($"{file}:9001: malformed JSON".Length)]);
            Assert.Equal(expected.Count, summary.ByLevel["low"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_evtx_file_is_hunted_as_windows_events_whatever_the_format_says_and_a_damaged_record_is_named()
    {
        var rules = RuleSet.Load(Corpus.Path("sigmahq", "rules", "windows", "process_creation"), new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: false);
        var hunter = new Hunter(rules, new EventParser(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero))), ParseOptions.Json);
        var alerts = new List<Alert>();
        var rejected = new List<string>();
        var files = new[]
        {
            Corpus.Path("logs", "windows", "evtx-attack-samples", "Execution", "Sysmon_Exec_CompiledHTML.evtx"),
            Corpus.Path("logs", "windows", "evtx-parser-samples", "samples", "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx"),
        };
        var notices = new List<string>();
        var done = new List<string>();
        var summary = await hunter.RunAsync(files, a => { alerts.Add(a); return ValueTask.CompletedTask; }, new HuntReporting { Rejected = rejected.Add, Notice = notices.Add, FileDone = done.Add }, CancellationToken.None);

        Assert.NotEmpty(alerts);
        Assert.Contains(alerts, a => a.Title.Contains("HTML", StringComparison.OrdinalIgnoreCase));
        // RdpCoreTS (from a shadow copy) has damaged chunks: what could not be read is named, the
        // rest read; a checksum that does not match is a notice, not a record left out.
        Assert.Contains(rejected, r => r.Contains("RdpCoreTS", StringComparison.Ordinal) && r.Contains("invalid EVTX record data size", StringComparison.Ordinal));
        Assert.DoesNotContain(rejected, r => r.Contains("checksum", StringComparison.Ordinal));
        Assert.Contains(notices, n => n.Contains("RdpCoreTS", StringComparison.Ordinal) && n.Contains("checksum does not match", StringComparison.Ordinal));
        Assert.True(summary.Events > 0 && summary.Rejected == rejected.Count, $"{summary.Events} events, {summary.Rejected} rejected, {rejected.Count} named");
        Assert.Equal(files, done);
        // Each event behind an alert names its file and its EVTX record id.
        Assert.All(alerts, a => Assert.Equal(files[0], a.Events[0].File));
        Assert.All(alerts, a => Assert.InRange(a.Events[0].Record!.Value, 1, 10_000));
    }

    [Fact]
    public async Task The_built_in_pack_raises_its_windows_rules_on_the_attack_samples_each_where_its_attack_is()
    {
        var rules = RuleSet.Load(null, new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: true);
        var hunter = new Hunter(rules, new EventParser(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero))), ParseOptions.Json);
        var root = Corpus.Path("logs", "windows", "evtx-attack-samples");
        var files = Directory.GetFiles(root, "*.evtx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var alerts = new List<Alert>();
        await hunter.RunAsync(files, a => { alerts.Add(a); return ValueTask.CompletedTask; }, null, CancellationToken.None);

        string FileOf(string title) => Path.GetFileName(alerts.First(a => a.Title == title).Events[0].File)!;
        Assert.Contains(alerts, a => a.Title == "Windows Event Log Cleared" && Path.GetFileName(a.Events[0].File) == "DE_1102_security_log_cleared.evtx");
        Assert.Contains("dumpert", FileOf("LSASS Memory Read by Another Process"), StringComparison.Ordinal);
        Assert.Equal("LM_Remote_Service02_7045.evtx", FileOf("Service Installed From a User-Writable Folder"));
        Assert.Single(alerts, a => a.Title == "PowerShell Started With an Encoded Command");
        // Nothing of the pack's Linux and AWS rules fires on Windows events.
        Assert.All(alerts, a => Assert.StartsWith("win.", a.Events[0].EventType, StringComparison.Ordinal));
    }
}
