using System.Net;
using System.Text;
using System.Text.Json;

namespace Hydrant.IntegrationTests;

/// <summary>Detection end to end on a real server: events in, alerts out (API and SSE), across kill -9.</summary>
public sealed class DetectionTests
{
    private const string RuleId = "6d0c6a8e-1111-4a7b-9d2e-5b3f0f2a7c01";
    private const long Minute = 60_000;

    private static readonly string Rule = $"""
        title: Test Tool Seen
        id: {RuleId}
        logsource:
            product: test
        detection:
            selection:
                tool|contains: mimikatz
            condition: selection
        level: critical
        """;

    private static string Event(string id, long ts, string tool, string ip = "198.51.100.60") =>
        $$"""{"id":"{{id}}","timestamp":{{ts}},"eventType":"process.start","sourceIP":"{{ip}}","logsource":{"product":"test"},"tool":"{{tool}}"}""";

    private static async Task<(TempDirectory Data, HydrantProcess Server)> StartAsync(TempDirectory? data = null)
    {
        data ??= new TempDirectory();
        var rules = Path.Combine(data.Path, "rules");
        Directory.CreateDirectory(rules);
        await File.WriteAllTextAsync(Path.Combine(rules, "test_tool.yml"), Rule);
        var server = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"), ["--rules", rules, "--Hydrant:Retention:Days=36500"]);
        return (data, server);
    }

    private static async Task<List<JsonElement>> AlertsAsync(HttpClient client)
    {
        var (response, body) = await Api.GetAsync(client, $"v1/alerts?rule={RuleId}&limit=10000");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. body.GetProperty("alerts").EnumerateArray()];
    }

    [Fact]
    public async Task A_matching_event_raises_an_alert_in_the_api_and_on_the_stream_and_repeats_update_it()
    {
        var (data, server) = await StartAsync();
        using var _ = data;
        await using var __ = server;
        using var client = Api.Client(server.BaseUrl);
        using var stream = await LiveAlerts.OpenAsync(server.BaseUrl);

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (10 * Minute);
        var (posted, _) = await Api.PostAsync(client, string.Join('\n',
            Event("d-1", now, "powershell"), Event("d-2", now + 1000, "MIMIKATZ.exe"), Event("d-3", now + 2000, "run mimikatz again")));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);

        var live = await stream.NextAsync();
        Assert.Equal(RuleId, live.GetProperty("ruleId").GetString());
        Assert.Equal("critical", live.GetProperty("level").GetString());

        await Eventually.TrueAsync(async () => (await AlertsAsync(client)) is [{ } a] && a.GetProperty("count").GetInt64() == 2, "one alert counts both matching events");
        var alert = (await AlertsAsync(client))[0];
        Assert.Equal("Test Tool Seen", alert.GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("groupKey").ValueKind);
        Assert.Equal(["d-2", "d-3"], alert.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        Assert.Equal(Api.Rfc3339(now + 1000), alert.GetProperty("firstSeen").GetString());
        Assert.Equal(Api.Rfc3339(now + 2000), alert.GetProperty("lastSeen").GetString());
        Assert.Equal("198.51.100.60", alert.GetProperty("events")[0].GetProperty("sourceIP").GetString());

        var (rules, list) = await Api.GetAsync(client, "v1/rules/" + RuleId);
        Assert.Equal(HttpStatusCode.OK, rules.StatusCode);
        Assert.EndsWith("test_tool.yml", list.GetProperty("source").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(client, "v1/rules/nope")).Response.StatusCode);
    }

    [Fact]
    public async Task After_kill_9_during_detection_no_alert_is_lost_or_doubled()
    {
        const int Events = 3000;
        var (data, server) = await StartAsync();
        using var _ = data;
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (Events * 10 * Minute);
        using (var client = Api.Client(server.BaseUrl))
        {
            // Ten minutes apart, past the five-minute suppression window: one alert per event.
            for (var first = 0; first < Events; first += 500)
            {
                var body = string.Join('\n', Enumerable.Range(first, 500).Select(i => Event($"k-{i}", start + (i * 10 * Minute), "mimikatz")));
                Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, body)).Response.StatusCode);
            }
            await Eventually.TrueAsync(async () => (await AlertsAsync(client)).Count > 0, "detection has begun");
        }
        await server.KillAsync();
        await server.DisposeAsync();

        var restarted = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"), ["--rules", Path.Combine(data.Path, "rules"), "--Hydrant:Retention:Days=36500"]);
        await using var ___ = restarted;
        using var after = Api.Client(restarted.BaseUrl);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(after, "v1/stats")).Body.GetProperty("spool").GetProperty("depth").GetInt64() == 0,
            "the detector has caught up", TimeSpan.FromSeconds(120));
        var alerts = await AlertsAsync(after);
        var ids = alerts.SelectMany(a => a.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!)).ToList();
        Assert.Equal(Events, alerts.Count);
        Assert.Equal(Events, ids.Distinct().Count());
        Assert.Equal(Events, ids.Count);
    }

    [Fact]
    public async Task A_filter_posted_through_the_api_tunes_a_rule_from_the_folder()
    {
        var (data, server) = await StartAsync();
        using var _ = data;
        await using var __ = server;
        using var client = Api.Client(server.BaseUrl);
        var filter = $"""
            title: Red team box is allowed mimikatz
            id: 7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d
            logsource:
                product: test
            filter:
                rules:
                    - {RuleId}
                selection:
                    sourceIP: 198.51.100.61
                condition: selection
            """;
        var (added, body) = await Api.PostAsync(client, Encoding.UTF8.GetBytes(filter), "v1/rules");
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", body.GetProperty("id").GetString());
        var (_, listed) = await Api.GetAsync(client, "v1/rules/7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d");
        Assert.Equal("filter", listed.GetProperty("kind").GetString());

        // In spool order: the filtered event is judged before the one that alerts.
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - Minute;
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, string.Join('\n', Event("f-1", ts, "mimikatz", "198.51.100.61"), Event("f-2", ts + 1, "mimikatz")))).Response.StatusCode);
        await Eventually.TrueAsync(async () => (await AlertsAsync(client)).Count == 1, "the unfiltered event raised its alert");
        Assert.Equal(["f-2"], (await AlertsAsync(client))[0].GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Rules_added_through_the_api_detect_survive_a_restart_and_can_be_removed()
    {
        var (data, server) = await StartAsync();
        using var _ = data;
        const string ApiRuleId = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        var apiRule = $"""
            title: Api Rule
            id: {ApiRuleId}
            logsource:
                product: test
            detection:
                selection:
                    tool: netcat
                condition: selection
            level: low
            """;
        using (var client = Api.Client(server.BaseUrl))
        {
            var (bad, problem) = await Api.PostAsync(client, Encoding.UTF8.GetBytes("title: broken\nlogsource:\n  product: test\ndetection:\n  sel:\n    F|nope: 1\n  condition: sel\n"), "v1/rules");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal((6, 5), (problem.GetProperty("line").GetInt32(), problem.GetProperty("column").GetInt32()));
            Assert.Contains("unsupported modifier 'nope'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

            var (added, body) = await Api.PostAsync(client, Encoding.UTF8.GetBytes(apiRule), "v1/rules");
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            Assert.Equal(ApiRuleId, body.GetProperty("id").GetString());
            Assert.Equal(HttpStatusCode.Conflict, (await Api.PostAsync(client, Encoding.UTF8.GetBytes(Rule), "v1/rules")).Response.StatusCode);
            Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync("v1/rules/" + RuleId)).StatusCode);

            var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - Minute;
            await Api.PostAsync(client, Event("api-1", ts, "netcat"));
            await Eventually.TrueAsync(async () => (await Api.GetAsync(client, $"v1/alerts?rule={ApiRuleId}")).Body.GetProperty("alerts").GetArrayLength() == 1,
                "the API rule raised its alert");
        }
        await server.DisposeAsync();

        var restarted = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"), ["--rules", Path.Combine(data.Path, "rules"), "--Hydrant:Retention:Days=36500"]);
        await using var __ = restarted;
        using var after = Api.Client(restarted.BaseUrl);
        var (found, rule) = await Api.GetAsync(after, "v1/rules/" + ApiRuleId);
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal("api:" + ApiRuleId, rule.GetProperty("source").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await after.DeleteAsync("v1/rules/" + ApiRuleId)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(after, "v1/rules/" + ApiRuleId)).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await after.DeleteAsync("v1/rules/" + ApiRuleId)).StatusCode);
    }
}
