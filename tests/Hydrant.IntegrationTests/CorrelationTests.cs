using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Hydrant.IntegrationTests;

/// <summary>Correlation rules on a real server: the default pack over syslog, API correlations, and window state across kill -9.</summary>
public sealed class CorrelationTests
{
    private const string BruteForceId = "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30";
    private const long Second = 1000;
    private const long Minute = 60 * Second;

    private static string SyslogTime(DateTimeOffset t) =>
        t.ToString("MMM ", CultureInfo.InvariantCulture) + t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) + t.ToString(" HH:mm:ss", CultureInfo.InvariantCulture);

    private static async Task<List<JsonElement>> AlertsAsync(HttpClient client, string ruleId)
    {
        var (response, body) = await Api.GetAsync(client, $"v1/alerts?rule={ruleId}&limit=10000");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. body.GetProperty("alerts").EnumerateArray()];
    }

    /// <summary>The README's tour: a replay of an old log after live traffic raises what it raises on a fresh server.</summary>
    [Fact]
    public async Task The_openssh_log_replayed_after_live_traffic_raises_the_brute_forces_a_fresh_server_raises()
    {
        using var data = new TempDirectory();
        var openssh = Hydrant.Tests.Corpus.Path("logs", "loghub", "OpenSSH", "OpenSSH_2k.log");
        var live = data.File("live.ndjson");
        var (generated, ndjson, _) = await HydrantProcess.RunAsync(["generate", "--count", "20000", "--days", "2", "--sources", "500", "--attacker", "203.0.113.9"]);
        Assert.Equal(0, generated);
        await File.WriteAllTextAsync(live, ndjson);

        async Task<List<string>> ReplayAlertsAsync(string name, bool liveFirst)
        {
            await using var server = await HydrantProcess.ServeAsync(Path.Combine(data.Path, name), ["--Hydrant:Retention:Days=3650"]);
            using var client = Api.Client(server.BaseUrl);
            if (liveFirst)
            {
                Assert.Equal(0, (await HydrantProcess.RunAsync(["ingest", live, "--url", server.BaseUrl])).ExitCode);
            }
            Assert.Equal(0, (await HydrantProcess.RunAsync(["ingest", openssh, "--format", "syslog", "--url", server.BaseUrl])).ExitCode);
            await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("consumers").EnumerateArray()
                .First(c => c.GetProperty("name").GetString() == "detector").GetProperty("lagEvents").GetInt64() == 0, "the detector has read everything");
            return [.. (await AlertsAsync(client, BruteForceId))
                .Where(a => a.GetProperty("groupKey").GetString() != "sourceIP=203.0.113.9")
                .Select(a => $"{a.GetProperty("groupKey").GetString()} {a.GetProperty("count").GetInt64()}")
                .Order(StringComparer.Ordinal)];
        }

        var fresh = await ReplayAlertsAsync("fresh", liveFirst: false);
        Assert.Equal(7, fresh.Count);
        Assert.Equal(fresh, await ReplayAlertsAsync("after-live", liveFirst: true));
    }

    [Fact]
    public async Task The_default_pack_raises_one_ssh_brute_force_alert_for_the_address_with_ten_failures_from_syslog()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"));
        using var client = Api.Client(server.BaseUrl);

        var start = DateTimeOffset.UtcNow.AddMinutes(-30);
        start = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, start.Minute, start.Second, TimeSpan.Zero);
        var lines = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            lines.Add($"{SyslogTime(start.AddSeconds(i * 10))} gw sshd[{100 + i}]: Failed password for invalid user admin from 203.0.113.7 port {40000 + i} ssh2");
        }
        for (var i = 0; i < 9; i++)
        {
            lines.Add($"{SyslogTime(start.AddSeconds(i * 10))} gw sshd[{200 + i}]: Failed password for root from 203.0.113.8 port {41000 + i} ssh2");
        }
        var (posted, answer) = await Api.PostAsync(client, Encoding.UTF8.GetBytes(string.Join('\n', lines)), $"v1/events?format=syslog&year={start.Year}");
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal(21, answer.GetProperty("accepted").GetInt32());

        await Eventually.TrueAsync(async () => (await AlertsAsync(client, BruteForceId)) is [{ } a] && a.GetProperty("count").GetInt64() == 12,
            "one brute force alert accounts for all twelve failures");
        var alert = Assert.Single(await AlertsAsync(client, BruteForceId));
        Assert.Equal("sourceIP=203.0.113.7", alert.GetProperty("groupKey").GetString());
        Assert.Equal("high", alert.GetProperty("level").GetString());
        Assert.Equal(Api.Rfc3339(start.ToUnixTimeMilliseconds()), alert.GetProperty("firstSeen").GetString());
        Assert.Equal(Api.Rfc3339(start.AddSeconds(110).ToUnixTimeMilliseconds()), alert.GetProperty("lastSeen").GetString());
        Assert.All(alert.GetProperty("events").EnumerateArray(), e => Assert.Equal("ssh.auth.failure", e.GetProperty("eventType").GetString()));

        // The single-failure rules only feed the correlation: they raise no alerts of their own.
        var (_, all) = await Api.GetAsync(client, "v1/alerts?limit=1000");
        Assert.All(all.GetProperty("alerts").EnumerateArray(), a => Assert.Equal(BruteForceId, a.GetProperty("ruleId").GetString()));
        var (_, rules) = await Api.GetAsync(client, "v1/rules");
        var described = rules.GetProperty("rules").EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
        Assert.Equal("correlation", described[BruteForceId].GetProperty("kind").GetString());
        Assert.Equal("event_count", described[BruteForceId].GetProperty("correlation").GetProperty("type").GetString());
        Assert.False(described["1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c50"].GetProperty("raisesAlerts").GetBoolean());
    }

    [Fact]
    public async Task A_correlation_posted_with_its_rule_detects_and_one_naming_a_missing_rule_is_refused()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"), ["--Hydrant:Retention:Days=36500"]);
        using var client = Api.Client(server.BaseUrl);
        const string CorrelationId = "3f6c1d2e-aaaa-4b5c-8d9e-0f1a2b3c4d5e";
        const string Posted = $"""
            title: Many Downloads From One Address
            id: {CorrelationId}
            correlation:
                type: value_count
                rules: [download]
                group-by: [sourceIP]
                timespan: 10m
                condition:
                    field: path
                    gte: 3
            level: medium
            ---
            title: Download
            id: 3f6c1d2e-bbbb-4b5c-8d9e-0f1a2b3c4d5e
            name: download
            logsource:
                product: test
            detection:
                selection:
                    action: download
                condition: selection
            """;

        var (missing, problem) = await Api.PostAsync(client, Encoding.UTF8.GetBytes(Posted.Split("---")[0].Replace("[download]", "[nothing_loaded]", StringComparison.Ordinal)), "v1/rules");
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("names rule 'nothing_loaded', which is not loaded", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var (added, body) = await Api.PostAsync(client, Encoding.UTF8.GetBytes(Posted), "v1/rules");
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(CorrelationId, body.GetProperty("id").GetString());

        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (20 * Minute);
        string Download(int i, string path) =>
            $$"""{"id":"dl-{{i}}","timestamp":{{ts + (i * Second)}},"eventType":"http.request","sourceIP":"198.51.100.9","logsource":{"product":"test"},"action":"download","path":"{{path}}"}""";
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, string.Join('\n', Download(0, "/a"), Download(1, "/a"), Download(2, "/b"), Download(3, "/c")))).Response.StatusCode);
        await Eventually.TrueAsync(async () => (await AlertsAsync(client, CorrelationId)) is [{ } a] && a.GetProperty("count").GetInt64() == 4,
            "the posted correlation fired over all four downloads");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("v1/rules/" + CorrelationId)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(client, "v1/rules/" + CorrelationId)).Response.StatusCode);
    }

    [Fact]
    public async Task After_kill_9_during_correlation_every_group_has_one_alert_counting_each_event_once()
    {
        const int Groups = 300;
        const int PerGroup = 10;
        using var data = new TempDirectory();
        var rules = Path.Combine(data.Path, "rules");
        Directory.CreateDirectory(rules);
        await File.WriteAllTextAsync(Path.Combine(rules, "burst.yml"), """
            title: Burst of Test Failures
            id: 9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a
            correlation:
                type: event_count
                rules: [test_failure]
                group-by: [sourceIP]
                timespan: 1m
                condition:
                    gte: 5
            level: high
            ---
            title: Test Failure
            name: test_failure
            logsource:
                product: test
            detection:
                selection:
                    action: fail
                condition: selection
            """);
        string[] args = ["--rules", rules, "--Hydrant:Retention:Days=36500"];
        var server = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"), args);
        // Groups ten minutes apart (past suppression), their events a second apart.
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (Groups * 10 * Minute);
        using (var client = Api.Client(server.BaseUrl))
        {
            for (var first = 0; first < Groups; first += 25)
            {
                var body = string.Join('\n', Enumerable.Range(first, 25).SelectMany(g => Enumerable.Range(0, PerGroup).Select(i =>
                    $$"""{"id":"g{{g}}-{{i}}","timestamp":{{start + (g * 10 * Minute) + (i * Second)}},"eventType":"auth.failure","sourceIP":"10.9.{{g / 256}}.{{g % 256}}","logsource":{"product":"test"},"action":"fail"}""")));
                Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, body)).Response.StatusCode);
            }
            await Eventually.TrueAsync(async () => (await AlertsAsync(client, "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a")).Count > 0, "correlation has begun");
        }
        await server.KillAsync();
        await server.DisposeAsync();

        await using var restarted = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"), args);
        using var after = Api.Client(restarted.BaseUrl);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(after, "v1/stats")).Body.GetProperty("spool").GetProperty("depth").GetInt64() == 0,
            "the detector has caught up", TimeSpan.FromSeconds(120));
        var alerts = await AlertsAsync(after, "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a");
        Assert.Equal(Groups, alerts.Count);
        Assert.Equal(Groups, alerts.Select(a => a.GetProperty("groupKey").GetString()).Distinct().Count());
        Assert.All(alerts, a => Assert.Equal(PerGroup, a.GetProperty("count").GetInt64()));
        var ids = alerts.SelectMany(a => a.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!)).ToList();
        Assert.Equal(Groups * PerGroup, ids.Distinct().Count());
        Assert.Equal(Groups * PerGroup, ids.Count);
    }
}
