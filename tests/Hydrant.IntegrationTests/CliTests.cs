using System.Net;
using System.Text.Json;

namespace Hydrant.IntegrationTests;

/// <summary>The `hydrant` command as a user runs it: generate, ingest, query.</summary>
public sealed class CliTests
{
    /// <summary>Writes the lines to a file and ingests it with the CLI, which must accept them all.</summary>
    private static async Task IngestAsync(HydrantProcess server, string file, IEnumerable<string> lines)
    {
        await File.WriteAllLinesAsync(file, lines);
        Assert.Equal(0, (await HydrantProcess.RunAsync(["ingest", file, "--url", server.BaseUrl])).ExitCode);
    }

    [Fact]
    public async Task Serving_a_data_folder_another_node_holds_exits_1_naming_the_folder()
    {
        using var data = new TempDirectory();
        await using var first = await HydrantProcess.ServeAsync(data.Path);
        var (exitCode, _, stderr) = await HydrantProcess.RunAsync(["serve", "--data", data.Path, "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(1, exitCode);
        Assert.Contains("hydrant: cannot open the data folder", stderr, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(data.Path), stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_ingest_and_query_round_trip_through_the_command()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);

        var (generated, events, _) = await HydrantProcess.RunAsync(["generate", "--count", "3000", "--days", "0.5", "--sources", "50", "--attacker", "203.0.113.50", "--size", "400", "--seed", "5"]);
        Assert.Equal(0, generated);
        var lines = events.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3000, lines.Length);
        var attackerEvents = lines.Count(l => JsonDocument.Parse(l).RootElement.GetProperty("sourceIP").GetString() == "203.0.113.50");
        Assert.True(attackerEvents > 0);
        var file = data.File("events.ndjson");
        await File.WriteAllTextAsync(file, events);

        var (ingested, summary, _) = await HydrantProcess.RunAsync(["ingest", file, "--url", server.BaseUrl]);
        Assert.Equal(0, ingested);
        Assert.Contains("accepted 3000 (duplicates 0), rejected 0", summary, StringComparison.Ordinal);

        var (again, againSummary, _) = await HydrantProcess.RunAsync(["ingest", file, "--url", server.BaseUrl]);
        Assert.Equal(0, again);
        Assert.Contains("accepted 3000 (duplicates 3000)", againSummary, StringComparison.Ordinal);

        var (queried, json, _) = await HydrantProcess.RunAsync(["query", "--ip", "203.0.113.50", "--limit", "100000", "--json", "--url", server.BaseUrl]);
        Assert.Equal(0, queried);
        Assert.Equal(attackerEvents, json.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // Piped, the table is tab-separated lines: nothing wrapped or cut for the next program.
        var (table, tableText, _) = await HydrantProcess.RunAsync(["query", "--type", "auth.failure", "--limit", "5", "--url", server.BaseUrl]);
        Assert.Equal(0, table);
        var rows = tableText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("timestamp\teventType\tsourceIP\tid", rows[0]);
        Assert.Equal(5, rows.Length - 1);
        Assert.All(rows[1..], l => Assert.Matches(@"^\d{4}-\d\d-\d\dT[^\t]+Z\tauth\.failure\t[^\t]+\t[^\t]+$", l));
    }

    [Theory]
    [InlineData("loghub/OpenSSH/OpenSSH_2k.log", "syslog", 2000)]
    [InlineData("zeek/brimdata-wrccdc2018/dns.head5000.json", "zeek", 5000)]
    [InlineData("web-apache-access-elastic/apache_logs.2015-05-17.log", "web", 1632)]
    [InlineData("cloudtrail/stratus-red-team-detonations/aws.credential-access.ec2-steal-instance-credentials.json", "cloudtrail", -1)]
    public async Task Ingesting_the_same_file_again_stores_nothing_twice_in_every_format(string file, string format, int records)
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path, ["--Hydrant:Retention:Days=36500"]);
        var path = Hydrant.Tests.Corpus.Path(["logs", .. file.Split('/')]);

        var (first, summary, _) = await HydrantProcess.RunAsync(["ingest", path, "--format", format, "--url", server.BaseUrl]);
        var accepted = System.Text.RegularExpressions.Regex.Match(summary, @"accepted (\d+) \(duplicates 0\)");
        Assert.True(accepted.Success, summary);
        if (records > 0)
        {
            Assert.Equal(records.ToString(System.Globalization.CultureInfo.InvariantCulture), accepted.Groups[1].Value);
        }
        var (second, again, _) = await HydrantProcess.RunAsync(["ingest", path, "--format", format, "--url", server.BaseUrl]);
        Assert.Equal(first, second);
        Assert.Contains($"accepted {accepted.Groups[1].Value} (duplicates {accepted.Groups[1].Value})", again, StringComparison.Ordinal);
        using var client = Api.Client(server.BaseUrl);
        var (_, stats) = await Api.GetAsync(client, "v1/stats");
        Assert.Equal(long.Parse(accepted.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), stats.GetProperty("spool").GetProperty("nextSequence").GetInt64());
    }

    [Fact]
    public async Task An_evtx_file_is_ingested_by_the_endpoint_and_by_the_command_and_stored_once_whichever_sends_it()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path, ["--Hydrant:Retention:Days=36500"]);
        using var client = Api.Client(server.BaseUrl);
        var samples = Hydrant.Tests.Corpus.Path("logs", "windows", "evtx-parser-samples", "samples");
        var security = Path.Combine(samples, "security.evtx");
        var records = Hydrant.Events.Formats.Evtx.EvtxFile.Open(await File.ReadAllBytesAsync(security), out _)!.Records().Count();

        var (posted, answer) = await Api.PostAsync(client, await File.ReadAllBytesAsync(security), "v1/events?format=evtx");
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal((records, 0, 0), (answer.GetProperty("accepted").GetInt32(), answer.GetProperty("duplicates").GetInt32(), answer.GetProperty("rejected").GetArrayLength()));
        Assert.False(answer.TryGetProperty("notices", out _));

        // The command sends the same file (by its signature, whatever --format says): its records are the ones stored.
        var (exit, summary, _) = await HydrantProcess.RunAsync(["ingest", security, "--format", "syslog", "--url", server.BaseUrl]);
        Assert.Equal(0, exit);
        Assert.Contains($"accepted {records} (duplicates {records}), rejected 0", summary, StringComparison.Ordinal);

        // A damaged file: the record it lost is rejected, named; the chunk whose checksum fails is a notice.
        var damaged = Path.Combine(samples, "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx");
        var (damagedExit, damagedSummary, damagedErrors) = await HydrantProcess.RunAsync(["ingest", damaged, "--url", server.BaseUrl]);
        Assert.Equal(2, damagedExit);
        Assert.Matches(@"RdpCoreTS%4Operational\.evtx: at byte \d+: chunk 0: invalid EVTX record data size", damagedErrors);
        Assert.Matches(@"RdpCoreTS%4Operational\.evtx: record \d+ \(chunk \d+\): ", damagedErrors);
        Assert.Contains("RdpCoreTS%4Operational.evtx: notice: at byte 4096: chunk 0: the records' checksum does not match", damagedErrors, StringComparison.Ordinal);
        Assert.Matches(@"accepted 1948 \(duplicates 0\), rejected 2[4-9]", damagedSummary);

        // Stored as Windows events, found by type and time like any other.
        var (_, page) = await Api.GetAsync(client, "v1/events?eventType=win.security.4624&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&limit=5");
        var logon = page.GetProperty("events")[0];
        Assert.Equal("windows", logon.GetProperty("logsource").GetProperty("product").GetString());
        Assert.Equal(4624, logon.GetProperty("EventID").GetInt32());
        Assert.Equal("Microsoft-Windows-Security-Auditing", logon.GetProperty("Provider_Name").GetString());
    }

    [Fact]
    public async Task Two_identical_lines_of_one_file_stay_two_events_and_standard_input_is_read_like_a_file()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path, ["--Hydrant:Retention:Days=36500"]);
        var line = $"<34>1 {DateTimeOffset.UtcNow.AddMinutes(-5):yyyy-MM-ddTHH:mm:ssZ} gw sshd 42 - - Failed password for root from 203.0.113.61 port 22 ssh2";
        var body = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', line, line, line + " again") + "\n");
        var file = data.File("twice.log");
        await File.WriteAllBytesAsync(file, body);

        var (_, fromFile, _) = await HydrantProcess.RunAsync(["ingest", file, "--format", "syslog", "--url", server.BaseUrl]);
        Assert.Contains("accepted 3 (duplicates 0)", fromFile, StringComparison.Ordinal);
        // The same bytes through standard input, as "-" and as /dev/stdin: the same input, stored once.
        var (exit, fromDash, stderr) = await HydrantProcess.RunAsync(["ingest", "-", "--format", "syslog", "--url", server.BaseUrl], stdin: body);
        Assert.Equal(0, exit);
        Assert.Contains("accepted 3 (duplicates 3)", fromDash, StringComparison.Ordinal);
        var (devExit, fromDev, devErr) = await HydrantProcess.RunAsync(["ingest", "/dev/stdin", "--format", "syslog", "--url", server.BaseUrl], stdin: body);
        Assert.Equal(0, devExit);
        Assert.Contains("accepted 3 (duplicates 3)", fromDev, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr + devErr, StringComparison.Ordinal);
        using var client = Api.Client(server.BaseUrl);
        Assert.Equal(3, (await Api.QueryIdsAsync(client, "sourceIP=203.0.113.61")).Count);
    }

    [Fact]
    public async Task Ingest_reports_rejected_lines_by_file_and_line_and_exits_2()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000;
        var file = data.File("mixed.ndjson");
        await File.WriteAllTextAsync(file, $$"""
            {"timestamp":{{ts}},"eventType":"ok","sourceIP":"10.0.0.1"}

            {"timestamp":{{ts}},"eventType":"bad","sourceIP":"999.1.1.1"}
            {"timestamp":{{ts}},"eventType":"ok","sourceIP":"10.0.0.2"}
            """);
        var (exit, stdout, stderr) = await HydrantProcess.RunAsync(["ingest", file, "--url", server.BaseUrl]);
        Assert.Equal(2, exit);
        Assert.Contains("mixed.ndjson:3: sourceIP", stderr, StringComparison.Ordinal);
        Assert.Contains("accepted 2 (duplicates 0), rejected 1", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_where_selects_events_by_any_field_and_refuses_a_condition_without_a_value()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await IngestAsync(server, data.File("shell.ndjson"), Enumerable.Range(0, 6).Select(i =>
            $$"""{"id":"where-{{i}}","timestamp":{{now - 60_000 + i}},"eventType":"shell","sourceIP":"198.51.100.90","user":"{{(i < 3 ? "root" : "alice")}}","cmd":{"line":"{{(i % 2 == 0 ? "wget x" : "ls")}}"} }"""));

        var (exit, json, _) = await HydrantProcess.RunAsync(["query", "--where", "user=root", "--where", "cmd.line=wget*", "--json", "--url", server.BaseUrl]);
        Assert.Equal(0, exit);
        Assert.Equal(["where-2", "where-0"], json.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()));

        var (bad, _, error) = await HydrantProcess.RunAsync(["query", "--where", "user", "--url", server.BaseUrl]);
        Assert.Equal(2, bad);
        Assert.Contains("NAME=VALUE", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alerts_are_listed_explained_acknowledged_and_closed_from_the_command_line()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await IngestAsync(server, data.File("failures.ndjson"), Enumerable.Range(0, 10).Select(i =>
            $$"""{"id":"cli-alert-{{i}}","timestamp":{{now - 60_000 + i}},"eventType":"auth.failure","sourceIP":"198.51.100.95","logsource":{"product":"hydrant","service":"auth"} }"""));

        string? id = null;
        await Eventually.TrueAsync(async () =>
        {
            var (_, listed, _) = await HydrantProcess.RunAsync(["alerts", "--status", "open", "--url", server.BaseUrl]);
            id = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('\t')).FirstOrDefault(c => c[5] == "SSH Brute Force")?[0];
            return id is not null;
        }, "hydrant alerts lists the brute force as open");

        var (shown, show, _) = await HydrantProcess.RunAsync(["alerts", "show", id!, "--url", server.BaseUrl]);
        Assert.Equal(0, shown);
        Assert.StartsWith("SSH Brute Force (high): 10 events", show, StringComparison.Ordinal);
        Assert.Contains("matched Authentication Failure: selection: eventType=auth.failure", show, StringComparison.Ordinal);

        var (acked, ack, _) = await HydrantProcess.RunAsync(["alerts", "ack", id!, "--assignee", "sam", "--note", "on it", "--url", server.BaseUrl]);
        Assert.Equal((0, $"{id}: acknowledged, version 1"), (acked, ack.Trim()));
        var (refused, _, why) = await HydrantProcess.RunAsync(["alerts", "close", id!, "--resolution", "maybe", "--url", server.BaseUrl]);
        Assert.Equal(2, refused);
        Assert.Contains("resolution", why, StringComparison.Ordinal);
        var (closed, close, _) = await HydrantProcess.RunAsync(["alerts", "close", id!, "--resolution", "true_positive", "--url", server.BaseUrl]);
        Assert.Equal((0, $"{id}: closed (true_positive), version 2"), (closed, close.Trim()));

        var (_, json, _) = await HydrantProcess.RunAsync(["alerts", "--status", "closed", "--json", "--url", server.BaseUrl]);
        var alert = System.Text.Json.JsonDocument.Parse(json.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single()).RootElement;
        Assert.Equal(("sam", 2), (alert.GetProperty("assignee").GetString(), alert.GetProperty("history").GetArrayLength()));
        var (_, history, _) = await HydrantProcess.RunAsync(["alerts", "show", id!, "--url", server.BaseUrl]);
        Assert.Contains("open: status acknowledged, assignee sam, note on it", history, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_list_and_show_print_what_the_server_has_loaded_as_plain_lines_when_piped()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);

        var (listed, list, _) = await HydrantProcess.RunAsync(["rules", "list", "--url", server.BaseUrl]);
        Assert.Equal(0, listed);
        var rows = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id\tkind\tlevel\ttitle\tattack\tsource", rows[0]);
        Assert.Contains("7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30\tcorrelation\thigh\tSSH Brute Force\tT1110.001\tdefault:", list, StringComparison.Ordinal);
        Assert.DoesNotContain("─", list, StringComparison.Ordinal);

        var (shown, show, _) = await HydrantProcess.RunAsync(["rules", "show", "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30", "--url", server.BaseUrl]);
        Assert.Equal(0, shown);
        Assert.StartsWith("SSH Brute Force (correlation, high, stable)", show, StringComparison.Ordinal);
        Assert.Contains("password guessing", show, StringComparison.Ordinal);
        Assert.Contains("T1110.001, credential-access", show, StringComparison.Ordinal);
        Assert.Contains("correlation:\n    type: event_count", show, StringComparison.Ordinal);

        var (json, answer, _) = await HydrantProcess.RunAsync(["rules", "show", "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30", "--json", "--url", server.BaseUrl]);
        Assert.Equal(0, json);
        Assert.Equal("SSH Brute Force", System.Text.Json.JsonDocument.Parse(answer).RootElement.GetProperty("title").GetString());

        var (missing, _, error) = await HydrantProcess.RunAsync(["rules", "show", "no-such-rule", "--url", server.BaseUrl]);
        Assert.Equal(1, missing);
        Assert.Contains("no-such-rule", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_check_reports_each_rule_as_a_json_line_and_fails_when_one_is_refused()
    {
        var (allGood, summary, _) = await HydrantProcess.RunAsync(["rules", "check", Hydrant.Tests.Corpus.Path("sigma", "rules")]);
        Assert.Equal(0, allGood);
        Assert.Matches(@"\n\d+ rules: \d+ compiled, 0 refused \(100\.0 % compiled\)$", summary.Trim());

        var (refused, json, _) = await HydrantProcess.RunAsync(["rules", "check", Hydrant.Tests.Corpus.Path("sigma", "rules-placeholder"), "--json"]);
        Assert.Equal(2, refused);
        var line = JsonDocument.Parse(json.Trim()).RootElement;
        Assert.Equal("refused", line.GetProperty("status").GetString());
        Assert.EndsWith(".yml", line.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.Equal("8b4a4d7f-8d8c-4fd1-9f0c-1e2b5c6a7d8e".Length, line.GetProperty("id").GetString()!.Length);
        Assert.False(string.IsNullOrEmpty(line.GetProperty("title").GetString()));
        Assert.Contains("line 25, column 9", line.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_check_says_per_logsource_which_input_formats_feed_it()
    {
        using var folder = new TempDirectory();
        static string Rule(string title, string logsource) =>
            $"title: {title}\nlogsource:\n{logsource}detection:\n    selection:\n        x: y\n    condition: selection\n";
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "registry.yml"), Rule("Run key deleted", "    product: windows\n    category: registry_delete\n"));
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "linux.yml"), Rule("Linux process", "    product: linux\n    category: process_creation\n"));
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "trail.yml"), Rule("Trail", "    product: aws\n    service: cloudtrail\n"));

        var (exit, json, _) = await HydrantProcess.RunAsync(["rules", "check", folder.Path, "--json"]);
        Assert.Equal(0, exit);
        var fedBy = json.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(l => l.GetProperty("logsource").GetString()!, l => string.Join(",", l.GetProperty("fedBy").EnumerateArray().Select(f => f.GetString())));
        Assert.Equal("windows,evtx", fedBy["windows/*/registry_delete"]);
        Assert.Equal(string.Empty, fedBy["linux/*/process_creation"]);
        Assert.Equal("cloudtrail", fedBy["aws/cloudtrail/*"]);

        var (_, text, _) = await HydrantProcess.RunAsync(["rules", "check", folder.Path]);
        Assert.Contains("linux/*/process_creation\t1\tnothing (only JSON events that name it)", text, StringComparison.Ordinal);
        Assert.Contains("windows/*/registry_delete\t1\twindows, evtx", text, StringComparison.Ordinal);
        Assert.Contains("1 of 3 compiled rules, in 1 of 3 logsources, have a logsource no input format feeds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_lint_names_each_finding_and_fails_only_on_a_rule_that_does_not_compile()
    {
        using var folder = new TempDirectory();
        var good = "title: Good\nid: 0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a40\nstatus: test\ndescription: Detects it.\nauthor: me\ndate: 2026-12-02\ntags:\n    - attack.t1046\n"
            + "logsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    selection:\n        eventName: X\n    condition: selection\nfalsepositives:\n    - Unknown\nlevel: low\n";
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "good.yml"), good);
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "tagged.yml"), good.Replace("0b1c2d3e", "1b1c2d3e", StringComparison.Ordinal).Replace("attack.t1046", "attack.T1046", StringComparison.Ordinal));

        var (clean, text, _) = await HydrantProcess.RunAsync(["rules", "lint", folder.Path]);
        Assert.Equal(0, clean);
        Assert.Contains("tagged.yml: warning tag: tag 'attack.T1046' is not an ATT&CK tactic or id", text, StringComparison.Ordinal);
        Assert.Contains("2 rules: 0 errors, 1 warnings, in 1 rules", text, StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(folder.Path, "broken.yml"), good.Replace("eventName:", "eventName|bogus:", StringComparison.Ordinal));
        var (broken, json, _) = await HydrantProcess.RunAsync(["rules", "lint", folder.Path, "--json"]);
        Assert.Equal(1, broken);
        var refused = Assert.Single(json.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement), l => l.GetProperty("severity").GetString() == "error");
        Assert.Equal(("broken.yml", "refused"), (refused.GetProperty("path").GetString(), refused.GetProperty("code").GetString()));
        Assert.Contains("unsupported modifier 'bogus'", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_test_passes_on_the_built_in_pack_and_shows_what_was_expected_of_each_failing_test_in_the_terminal_and_in_junit()
    {
        var (passed, report, _) = await HydrantProcess.RunAsync(["rules", "test", Hydrant.Tests.Repository.Path("src", "Hydrant", "Detection", "Rules")]);
        Assert.Equal(0, passed);
        Assert.Matches(@"^(\d+) tests: \1 passed, 0 failed$", report.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        Assert.Contains("PASS tests/ssh.test.yml: ten failures from one address within five minutes raise one alert", report, StringComparison.Ordinal);

        using var rules = new TempDirectory();
        using var tests = new TempDirectory();
        await File.WriteAllTextAsync(rules.File("sudo.yml"), """
            title: Sudo To Root
            id: 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
            name: sudo_root
            logsource: {product: linux, service: sudo}
            detection:
                selection: {user: root}
                condition: selection
            level: medium
            ---
            title: Sudo Burst
            id: 1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a
            correlation:
                type: event_count
                rules: [sudo_root]
                group-by: [host]
                timespan: 1m
                condition: {gte: 3}
            level: high
            """);
        await File.WriteAllTextAsync(tests.File("sudo.yml"), """
            rule: Sudo To Root
            name: root matches, alice does not
            match:
                - {eventType: sudo, sourceIP: 10.0.0.1, user: root, logsource: {product: linux, service: sudo}}
            nomatch:
                - {eventType: sudo, sourceIP: 10.0.0.1, user: alice, logsource: {product: linux, service: sudo}}
            ---
            rule: Sudo To Root
            name: wrongly expects alice to match
            match:
                - {eventType: sudo, sourceIP: 10.0.0.1, user: alice, logsource: {product: linux, service: sudo}}
            ---
            rule: Sudo Burst
            name: three on one host within a minute, but four expected
            events:
                - {eventType: sudo, sourceIP: 10.0.0.1, host: web-1, user: root, logsource: {product: linux, service: sudo}}
                - {eventType: sudo, sourceIP: 10.0.0.1, host: web-1, user: root, logsource: {product: linux, service: sudo}}
                - {eventType: sudo, sourceIP: 10.0.0.1, host: web-1, user: root, logsource: {product: linux, service: sudo}}
            alerts:
                - {count: 4, groupKey: host=web-1}
            """);
        await File.WriteAllTextAsync(tests.File("more.ndjson"), """
            {"rule":"Sudo Burst","name":"two hosts, no burst","events":[{"eventType":"sudo","sourceIP":"10.0.0.1","host":"a","user":"root","logsource":{"product":"linux","service":"sudo"}},{"eventType":"sudo","sourceIP":"10.0.0.1","host":"b","user":"root","logsource":{"product":"linux","service":"sudo"}}],"alerts":[]}
            {"rule":"Sudo To Root","mtach":[]}
            """);
        var junit = Path.Combine(tests.Path, "out", "junit.xml");

        var (failed, text, _) = await HydrantProcess.RunAsync(["rules", "test", rules.Path, tests.Path, "--junit", junit]);
        Assert.Equal(1, failed);
        Assert.Contains("PASS sudo.yml: root matches, alice does not", text, StringComparison.Ordinal);
        Assert.Contains("PASS more.ndjson: two hosts, no burst", text, StringComparison.Ordinal);
        Assert.Contains("FAIL sudo.yml: wrongly expects alice to match\n     match event 1 does not match the rule:\n         {\"id\":\"test2-match-1\"", text, StringComparison.Ordinal);
        Assert.Contains("FAIL sudo.yml: three on one host within a minute, but four expected\n     alerts differ: expected 1, raised 1\n       - count: 4, groupKey: host=web-1\n       + count: 3, groupKey: host=web-1, level: high", text, StringComparison.Ordinal);
        Assert.Contains("FAIL more.ndjson: line 2\n     line 2: unknown key 'mtach'", text, StringComparison.Ordinal);
        Assert.EndsWith("5 tests: 2 passed, 3 failed\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\e[", text, StringComparison.Ordinal);

        var xml = System.Xml.Linq.XDocument.Load(junit).Root!;
        Assert.Equal(("5", "3"), (xml.Attribute("tests")!.Value, xml.Attribute("failures")!.Value));
        var failure = xml.Descendants("testcase").Single(t => t.Attribute("name")!.Value == "three on one host within a minute, but four expected").Element("failure")!;
        Assert.Equal("alerts differ: expected 1, raised 1", failure.Attribute("message")!.Value);
        Assert.Null(xml.Descendants("testcase").Single(t => t.Attribute("name")!.Value == "two hosts, no burst").Element("failure"));

        var (nothing, _, error) = await HydrantProcess.RunAsync(["rules", "test", rules.Path]);
        Assert.Equal(2, nothing);
        Assert.Contains("no tests under", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_check_reports_every_document_of_a_correlation_file_and_refuses_a_correlation_naming_a_missing_rule()
    {
        using var folder = new TempDirectory();
        var markdown = await File.ReadAllTextAsync(Hydrant.Tests.Corpus.Path("sigma", "specification", "specification", "sigma-correlation-rules-specification.md"));
        var example = markdown[(markdown.IndexOf("```yml\ntitle: Correlation - Multiple Failed Logins", StringComparison.Ordinal) + 7)..];
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "mr_brute_force.yml"), example[..example.IndexOf("```", StringComparison.Ordinal)]);
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "mr_orphan.yml"),
            "title: Orphan\ncorrelation:\n    type: event_count\n    rules: [no_such_rule]\n    group-by: [User]\n    timespan: 1h\n    condition: {gte: 2}\n");

        var (exit, json, _) = await HydrantProcess.RunAsync(["rules", "check", folder.Path, "--json"]);
        Assert.Equal(2, exit);
        var lines = json.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, lines.Count);
        Assert.Equal(4, lines.Count(l => l.GetProperty("path").GetString() == "mr_brute_force.yml" && l.GetProperty("status").GetString() == "compiled"));
        var orphan = Assert.Single(lines, l => l.GetProperty("status").GetString() == "refused");
        Assert.Equal("mr_orphan.yml", orphan.GetProperty("path").GetString());
        Assert.Contains("names rule 'no_such_rule', which is not loaded", orphan.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hunt_runs_the_sigmahq_rules_over_the_stratus_detonations_offline()
    {
        var stratus = Directory.GetFiles(Hydrant.Tests.Corpus.Path("logs", "cloudtrail", "stratus-red-team-detonations"), "*.json");
        var (exit, stdout, _) = await HydrantProcess.RunAsync(["hunt", "--rules", Hydrant.Tests.Corpus.Path("sigma", "rules"), "--format", "cloudtrail", "--json", .. stratus]);
        Assert.Equal(0, exit);
        var alerts = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var titles = alerts.Select(a => a.GetProperty("title").GetString()).ToHashSet();
        Assert.Contains("AWS VPC Flow Logs Deleted", titles);
        Assert.Contains("AWS Successful Console Login Without MFA", titles);
        Assert.All(alerts, a =>
        {
            Assert.Equal(1, a.GetProperty("count").GetInt64());
            Assert.Equal(1, a.GetProperty("events").GetArrayLength());
            Assert.Equal(a.GetProperty("firstSeen").GetString(), a.GetProperty("lastSeen").GetString());
        });

        var (table, text, _) = await HydrantProcess.RunAsync(["hunt", "--rules", Hydrant.Tests.Corpus.Path("sigma", "rules"), "--format", "cloudtrail", .. stratus]);
        Assert.Equal(0, table);
        Assert.Contains($"{alerts.Count} alerts", text, StringComparison.Ordinal);
        Assert.Contains("52 events (0 rejected) from 6 files", text, StringComparison.Ordinal);
        // Piped, the summary is tab-separated lines, not a drawn table.
        Assert.Contains("\nrule\talerts\n", "\n" + text, StringComparison.Ordinal);
        Assert.Contains("\nfile\talerts\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("│", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hunt_without_rules_runs_the_built_in_pack_over_evtx_and_names_each_alerts_file_and_record()
    {
        var cleared = Hydrant.Tests.Corpus.Path("logs", "windows", "evtx-attack-samples", "Defense Evasion", "DE_1102_security_log_cleared.evtx");
        var (exit, stdout, stderr) = await HydrantProcess.RunAsync(["hunt", "--json", cleared]);
        Assert.Equal(0, exit);
        var alert = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement),
            a => a.GetProperty("title").GetString() == "Windows Event Log Cleared");
        var behind = alert.GetProperty("events")[0];
        Assert.Equal(cleared, behind.GetProperty("file").GetString());
        Assert.Equal("win.security.1102", behind.GetProperty("eventType").GetString());
        // The record is the event's EventRecordID, as Event Viewer shows it (an exported file renumbers its record headers from 1).
        var file = Hydrant.Events.Formats.Evtx.EvtxFile.Open(await File.ReadAllBytesAsync(cleared), out _)!;
        var xml = file.Records().Select(r => Hydrant.Events.Formats.Evtx.EvtxXml.Render(file.ReadEvent(r))).Single(x => x.Contains("<EventID>1102</EventID>", StringComparison.Ordinal));
        Assert.Contains($"<EventRecordID>{behind.GetProperty("record").GetInt64()}</EventRecordID>", xml, StringComparison.Ordinal);
        Assert.Contains("file\talerts", stderr, StringComparison.Ordinal);
        Assert.Contains("DE_1102_security_log_cleared.evtx\t1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hunt_runs_a_brute_force_correlation_over_the_real_openssh_log()
    {
        using var folder = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "brute.yml"), """
            title: SSH Brute Force
            id: 7d4b2a10-0000-4f61-9a7b-8c9d0e1f2a30
            correlation:
                type: event_count
                rules: [ssh_auth_failure]
                group-by: [sourceIP]
                timespan: 5m
                condition:
                    gte: 10
            level: high
            ---
            title: SSH Authentication Failure
            name: ssh_auth_failure
            logsource:
                product: linux
                service: sshd
            detection:
                selection:
                    eventType: ssh.auth.failure
                condition: selection
            """);
        var log = Hydrant.Tests.Corpus.Path("logs", "loghub", "OpenSSH", "OpenSSH_2k.log");
        var (exit, stdout, _) = await HydrantProcess.RunAsync(["hunt", "--rules", folder.Path, "--format", "syslog", "--year", "2024", "--json", log]);
        Assert.Equal(0, exit);

        // Failures per address, counted here from the raw lines.
        var failures = File.ReadLines(log)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"sshd\[\d+\]: Failed \S+ for (?:invalid user )?.*? from (\S+) port"))
            .Where(m => m.Success).GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.Count());
        var counted = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .GroupBy(a => a.GetProperty("groupKey").GetString()!["sourceIP=".Length..])
            .ToDictionary(g => g.Key, g => g.Sum(a => a.GetProperty("count").GetInt64()));
        Assert.Equal(286, counted["183.62.140.253"]); // the busiest guesser: every one of its failures is in a burst
        Assert.Equal(failures["183.62.140.253"], counted["183.62.140.253"]);
        Assert.All(counted, c => Assert.InRange(c.Value, 10, failures[c.Key]));
        Assert.DoesNotContain(failures.Where(f => f.Value < 10), f => counted.ContainsKey(f.Key));
    }

    [Fact]
    public async Task Commands_fail_clearly_on_bad_usage_and_unreachable_servers()
    {
        var (usage, _, usageError) = await HydrantProcess.RunAsync(["query", "--limit", "many"]);
        Assert.Equal(2, usage);
        Assert.Contains("many", usageError, StringComparison.Ordinal);

        var (unreachable, _, error) = await HydrantProcess.RunAsync(["query", "--url", "http://127.0.0.1:9"]);
        Assert.Equal(1, unreachable);
        Assert.Contains("cannot reach", error, StringComparison.Ordinal);

        var (missing, _, missingError) = await HydrantProcess.RunAsync(["ingest", "/nonexistent/file.ndjson"]);
        Assert.Equal(2, missing);
        Assert.Contains("does not exist", missingError, StringComparison.Ordinal);
    }
}
