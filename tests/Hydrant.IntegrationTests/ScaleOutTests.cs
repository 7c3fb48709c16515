using System.Net;
using System.Text;
using System.Text.Json;
using Hydrant.Testing;
using Microsoft.Playwright;

namespace Hydrant.IntegrationTests;

/// <summary>
/// Two Hydrant nodes sharing one DynamoDB table, one Redis and one PostgreSQL, as behind a load
/// balancer: a rule or an intel list added on one applies on the other, either lists and streams the alerts of
/// both, and what either accepted is queried from either, in the event store and in the analytics
/// store, each node writing from its own spool.
/// </summary>
public sealed class ScaleOutTests : IDisposable
{
    private const string RuleId = "5c0a4e1e-2f51-4a43-9d8e-7b2f0c1d9a11";
    private static readonly string Rule = $"""
        title: Shared Rule
        id: {RuleId}
        logsource:
            product: test
        detection:
            selection:
                tool: socat
            condition: selection
        level: high
        """;

    private readonly PostgresDatabase _database = new();
    private readonly string _redisPrefix = $"test:{Guid.NewGuid():N}:";
    private readonly string _table = $"test-{Guid.NewGuid():N}";

    private IReadOnlyList<string> SharedBackends =>
    [
        "--Hydrant:Cache:Kind=redis", $"--Hydrant:Redis:Configuration={TestServers.Redis}", $"--Hydrant:Redis:Prefix={_redisPrefix}",
        "--Hydrant:Analytics:Kind=postgres", $"--Hydrant:Postgres:ConnectionString={_database.ConnectionString}",
        "--Hydrant:Store:Kind=dynamodb", $"--Hydrant:DynamoDb:ServiceUrl={TestServers.DynamoDb}", $"--Hydrant:DynamoDb:TableName={_table}",
    ];

    private static string Event(string id, long ts, string tool) =>
        $$"""{"id":"{{id}}","timestamp":{{ts}},"eventType":"process.start","sourceIP":"198.51.100.70","logsource":{"product":"test"},"tool":"{{tool}}"}""";

    [Fact]
    public async Task A_rule_or_intel_list_added_on_one_node_applies_on_the_other_and_events_from_both_are_queried_from_either()
    {
        await using var nodes = await TwoNodes.StartAsync(SharedBackends);
        var (a, b) = (nodes.A, nodes.B);

        foreach (var node in new[] { a, b })
        {
            var (ready, readiness) = await Api.GetAsync(node, "readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("healthy", readiness.GetProperty("backends").GetProperty("redis").GetProperty("status").GetString());
            Assert.Equal("healthy", readiness.GetProperty("backends").GetProperty("analytics").GetProperty("status").GetString());
            Assert.Equal("healthy", readiness.GetProperty("backends").GetProperty("dynamodb").GetProperty("status").GetString());
        }

        var (added, _) = await Api.PostAsync(a, Encoding.UTF8.GetBytes(Rule), "v1/rules");
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(b, "v1/rules/" + RuleId)).Response.StatusCode == HttpStatusCode.OK,
            "node B has the rule node A added");

        using var streamOnA = await LiveAlerts.OpenAsync(nodes.NodeA.BaseUrl);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(b, Event("so-1", ts, "socat"))).Response.StatusCode);
        async Task<JsonElement> AlertsOnAsync(HttpClient node) => (await Api.GetAsync(node, $"v1/alerts?rule={RuleId}")).Body.GetProperty("alerts");
        await Eventually.TrueAsync(async () => (await AlertsOnAsync(b)).GetArrayLength() == 1, "node B raised the alert of node A's rule");
        // Every node lists and streams every node's alerts.
        var raisedOnB = (await AlertsOnAsync(b))[0].GetProperty("id").GetString();
        Assert.Equal(raisedOnB, (await streamOnA.NextAsync()).GetProperty("id").GetString());
        Assert.Equal(raisedOnB, (await AlertsOnAsync(a))[0].GetProperty("id").GetString());
        // A repeat reaching node A while node B holds the alert makes no second alert: node A
        // forwards it to node B, whose alert grows (and both list it so).
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(a, Event("so-2", ts + 1, "socat"))).Response.StatusCode);
        await Eventually.TrueAsync(async () => (await AlertsOnAsync(a)) is { } listed && listed.GetArrayLength() == 1 && listed[0].GetProperty("count").GetInt32() == 2,
            "node B's alert counts the repeat node A saw");
        foreach (var node in new[] { a, b })
        {
            var listed = Assert.Single((await AlertsOnAsync(node)).EnumerateArray());
            Assert.Equal((raisedOnB, 2), (listed.GetProperty("id").GetString(), listed.GetProperty("count").GetInt32()));
            Assert.Equal(["so-1", "so-2"], listed.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        }
        var alertStatsOfA = (await Api.GetAsync(a, "v1/stats")).Body.GetProperty("alerts");
        Assert.Equal((0, 0), (alertStatsOfA.GetProperty("raised").GetInt32(), alertStatsOfA.GetProperty("updated").GetInt32()));
        var alertStatsOfB = (await Api.GetAsync(b, "v1/stats")).Body.GetProperty("alerts");
        Assert.Equal((1, 1), (alertStatsOfB.GetProperty("raised").GetInt32(), alertStatsOfB.GetProperty("updated").GetInt32()));
        Assert.True(alertStatsOfB.GetProperty("shared").GetInt32() >= 2, "node B shared both versions of its alert");
        var stats = (await Api.GetAsync(b, "v1/stats")).Body.GetProperty("ruleCache");
        Assert.Equal("redis", stats.GetProperty("kind").GetString());
        Assert.True(stats.GetProperty("misses").GetInt64() >= 1, "node B reloaded its copy after the change");

        Assert.Equal(HttpStatusCode.NoContent, (await b.DeleteAsync("v1/rules/" + RuleId)).StatusCode);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(a, "v1/rules/" + RuleId)).Response.StatusCode == HttpStatusCode.NotFound,
            "node A dropped the rule node B removed");

        // An intel list put on one node is matched on the other: the lists live in Redis too.
        using (var list = new StringContent("198.51.100.0/24\n"))
        {
            Assert.Equal(HttpStatusCode.Created, (await a.PutAsync("v1/intel/lists/shared-watch?level=high", list)).StatusCode);
        }
        await Eventually.TrueAsync(async () => (await Api.GetAsync(b, "v1/intel/lists/shared-watch")).Response.StatusCode == HttpStatusCode.OK,
            "node B has the intel list node A put");
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(b, Event("listed-1", ts + 2, "nc"))).Response.StatusCode);
        JsonElement listedEvent = default;
        await Eventually.TrueAsync(async () => (await Api.GetAsync(b, "v1/events/listed-1")) is { Response.StatusCode: HttpStatusCode.OK } found && (listedEvent = found.Body).ValueKind == JsonValueKind.Object,
            "node B stored the event");
        Assert.Equal(["shared-watch"], listedEvent.GetProperty("enrichment").GetProperty("intel").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await b.DeleteAsync("v1/intel/lists/shared-watch")).StatusCode);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(a, "v1/intel/lists/shared-watch")).Response.StatusCode == HttpStatusCode.NotFound,
            "node A dropped the list node B removed");

        // Each node writes its own spool to the one table and the one analytics store; either answers for both.
        await Api.PostAsync(a, string.Join('\n', Enumerable.Range(0, 300).Select(i => Event($"a-{i}", ts + i, "ls"))));
        await Api.PostAsync(b, string.Join('\n', Enumerable.Range(0, 200).Select(i => Event($"b-{i}", ts + i, "ls"))));
        async Task<long> CountAsync(HttpClient node)
        {
            var (_, answer) = await Api.PostAsync(node, JsonSerializer.SerializeToUtf8Bytes(new { sql = "SELECT count(*) FROM events" }), "v1/analytics/query");
            return answer.GetProperty("rows")[0][0].GetInt64();
        }
        await Eventually.TrueAsync(async () => await CountAsync(a) == 503, "both nodes' events are in the shared analytics store", TimeSpan.FromSeconds(60));
        Assert.Equal(503, await CountAsync(b));
        var range = $"from={Api.Rfc3339(ts - 1000)}&to={Api.Rfc3339(ts + 1000)}&limit=120";
        var expected = Enumerable.Range(0, 300).Select(i => $"a-{i}").Concat(Enumerable.Range(0, 200).Select(i => $"b-{i}")).Append("so-1").Append("so-2").Append("listed-1").Order().ToList();
        await Eventually.TrueAsync(async () => (await Api.QueryIdsAsync(b, range)).Count == expected.Count, "both nodes' events are in the shared table");
        Assert.Equal(expected, (await Api.QueryIdsAsync(a, range)).Order());
        Assert.Equal(expected, (await Api.QueryIdsAsync(b, range + "&sourceIP=198.51.100.70")).Order());
    }

    [Fact]
    public async Task Ids_sent_three_times_through_two_nodes_are_stored_detected_and_loaded_once()
    {
        // The answers count duplicates only for claims made while the request waits: on 2 busy
        // cores dynalite can take longer than the default 2 s.
        await using var nodes = await TwoNodes.StartAsync([.. SharedBackends, "--Hydrant:DynamoDb:ClaimWaitMs=60000"]);
        var (a, b) = (nodes.A, nodes.B);
        Assert.Equal(HttpStatusCode.Created, (await Api.PostAsync(a, Encoding.UTF8.GetBytes(Rule), "v1/rules")).Response.StatusCode);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(b, "v1/rules/" + RuleId)).Response.StatusCode == HttpStatusCode.OK, "node B has the rule");

        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 120_000;
        var body = string.Join('\n', Enumerable.Range(0, 400).Select(i => Event($"thrice-{i}", ts + i, "socat")));
        var answers = new List<JsonElement>();
        foreach (var node in new[] { a, b, a })
        {
            var (response, answer) = await Api.PostAsync(node, body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answers.Add(answer);
        }
        Assert.Equal([0, 400, 400], answers.Select(x => x.GetProperty("duplicates").GetInt32()));
        Assert.All(answers, x => Assert.Equal(400, x.GetProperty("accepted").GetInt32()));

        async Task<long> CountAsync(HttpClient node)
        {
            var (_, answer) = await Api.PostAsync(node, JsonSerializer.SerializeToUtf8Bytes(new { sql = "SELECT count(*) FROM events WHERE id LIKE 'thrice-%'" }), "v1/analytics/query");
            return answer.GetProperty("rows")[0][0].GetInt64();
        }
        await Eventually.TrueAsync(async () => await CountAsync(b) == 400, "the 400 events are in the analytics store", TimeSpan.FromSeconds(60));
        var range = $"from={Api.Rfc3339(ts - 1000)}&to={Api.Rfc3339(ts + 1000)}&limit=1000";
        await Eventually.TrueAsync(async () => (await Api.QueryIdsAsync(b, range)).Count == 400, "the 400 events are in the table", TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () => (await Api.GetAsync(a, $"v1/alerts?rule={RuleId}")).Body.GetProperty("alerts") is { } alerts
            && alerts.GetArrayLength() == 1 && alerts[0].GetProperty("count").GetInt32() == 400, "one alert counts each event once", TimeSpan.FromSeconds(60));
        // Settled: nothing more arrives later.
        Assert.Equal(400, await CountAsync(a));
        Assert.Equal(400, (await Api.QueryIdsAsync(a, range)).Count);

        // Any node finds an event by its id alone, whichever node stored it.
        foreach (var node in new[] { a, b })
        {
            var (found, stored) = await Api.GetAsync(node, "v1/events/thrice-7");
            Assert.Equal(HttpStatusCode.OK, found.StatusCode);
            Assert.Equal(("thrice-7", Api.Rfc3339(ts + 7)), (stored.GetProperty("id").GetString(), stored.GetProperty("timestamp").GetString()));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(b, "v1/events/thrice-400")).Response.StatusCode);

        // A search by field reads the shared table through the same plan.
        Assert.Equal(400, (await Api.QueryIdsAsync(b, range + "&field.tool=SOCAT")).Count);
        Assert.Empty(await Api.QueryIdsAsync(b, range + "&field.tool=nc"));

        // Triage is shared: what one node sets, the other shows; a close on one node makes a repeat
        // on the other a new alert.
        var sharedId = (await Api.GetAsync(a, $"v1/alerts?rule={RuleId}")).Body.GetProperty("alerts")[0].GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await TriageTests.PatchAsync(b, sharedId, new { status = "acknowledged", assignee = "sam" })).Response.StatusCode);
        Assert.Equal(sharedId, (await TriageTests.OneAlertAsync(a, $"rule={RuleId}&status=acknowledged&assignee=sam", "node A shows node B's triage")).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, (await TriageTests.PatchAsync(a, sharedId, new { status = "closed", resolution = "benign", version = 1 })).Response.StatusCode);
        foreach (var node in new[] { a, b })
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(node, Event($"after-close-{node.GetHashCode()}", ts + 500, "socat"))).Response.StatusCode);
        }
        await TriageTests.OneAlertAsync(b, $"rule={RuleId}&status=open", "the repeats after the close opened one new alert");
        Assert.Equal(400, (await TriageTests.OneAlertAsync(b, $"rule={RuleId}&status=closed", "the closed alert kept its count")).GetProperty("count").GetInt32());

        // The alert explained on either node: its kept events read back from the shared table.
        var alertId = sharedId;
        foreach (var node in new[] { a, b })
        {
            var (shown, explained) = await Api.GetAsync(node, "v1/alerts/" + alertId);
            Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
            var events = explained.GetProperty("events").EnumerateArray().ToList();
            Assert.Equal(100, events.Count);
            Assert.Equal(300, explained.GetProperty("eventsNotShown").GetInt32());
            Assert.All(events, e => Assert.Equal(e.GetProperty("id").GetString(), e.GetProperty("event").GetProperty("id").GetString()));
            Assert.All(events, e => Assert.NotEmpty(e.GetProperty("matched").EnumerateArray()));
        }
    }

    [Fact]
    public async Task A_brute_force_split_between_two_nodes_is_detected_once()
    {
        await using var nodes = await TwoNodes.StartAsync(["--Hydrant:Cache:Kind=redis", $"--Hydrant:Redis:Configuration={TestServers.Redis}", $"--Hydrant:Redis:Prefix={_redisPrefix}"]);
        var (a, b) = (nodes.A, nodes.B);

        // Twelve failures from one address in two minutes, alternating between the nodes: six
        // each, under the built-in rule's ten on either node alone.
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 600_000;
        for (var i = 0; i < 12; i++)
        {
            var line = $$"""{"id":"bf-{{i}}","timestamp":{{ts + (i * 10_000)}},"eventType":"auth.failure","sourceIP":"203.0.113.200","logsource":{"product":"hydrant","service":"auth"},"user":"root"}""";
            var (response, _) = await Api.PostAsync(i % 2 == 0 ? a : b, line);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        async Task<int> AlertsAsync(HttpClient node) =>
            (await Api.GetAsync(node, $"v1/alerts?rule={BruteForceId}&from={Api.Rfc3339(ts - 60_000)}")).Body.GetProperty("alerts").GetArrayLength();
        async Task<bool> CaughtUpAsync(HttpClient node) =>
            (await Api.GetAsync(node, "v1/stats")).Body.GetProperty("consumers").EnumerateArray().All(c => c.GetProperty("lagEvents").GetInt64() == 0);

        async Task<long> EventsCountedAsync(HttpClient node) =>
            (await Api.GetAsync(node, $"v1/alerts?rule={BruteForceId}&from={Api.Rfc3339(ts - 60_000)}")).Body.GetProperty("alerts").EnumerateArray().Sum(x => x.GetProperty("count").GetInt64());

        await Eventually.TrueAsync(async () => await AlertsAsync(a) + await AlertsAsync(b) >= 1, "one of the nodes raised the brute-force alert");
        await Eventually.TrueAsync(async () => await CaughtUpAsync(a) && await CaughtUpAsync(b), "both detectors have seen every event");
        Assert.Equal(1, await AlertsAsync(a) + await AlertsAsync(b));
        // The owner's alert counts every failure, those the other node saw included (forwarded to it).
        await Eventually.TrueAsync(async () => await EventsCountedAsync(a) + await EventsCountedAsync(b) == 12, "the alert counts all twelve failures");
    }

    [Fact]
    public async Task The_console_of_either_node_shows_and_triages_the_alerts_rules_and_reports_of_both()
    {
        await using var nodes = await TwoNodes.StartAsync(SharedBackends);
        var (a, b) = (nodes.A, nodes.B);
        Assert.Equal(HttpStatusCode.Created, (await Api.PostAsync(a, Encoding.UTF8.GetBytes(Rule.Replace("level: high", "level: high\ntags: [attack.command-and-control, attack.t1095]", StringComparison.Ordinal)), "v1/rules")).Response.StatusCode);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(b, "v1/rules/" + RuleId)).Response.StatusCode == HttpStatusCode.OK, "node B has the rule");
        var yesterday = DateTimeOffset.UtcNow.Date.AddDays(-1);
        var noon = new DateTimeOffset(yesterday, TimeSpan.Zero).AddHours(12).ToUnixTimeMilliseconds();
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(a, string.Join('\n', Enumerable.Range(0, 3).Select(i => Event($"console-{i}", noon + i, "socat"))))).Response.StatusCode);
        var id = (await TriageTests.OneAlertAsync(b, $"rule={RuleId}", "node B lists the alert node A raised")).GetProperty("id").GetString()!;
        var day = yesterday.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.TrueAsync(async () => (await Api.PostAsync(a, [], $"v1/reports/daily/{day}")).Body.GetProperty("totalEvents").GetInt64() == 3,
            "node A's report of yesterday counts its events", TimeSpan.FromSeconds(60));

        await using var browser = await ConsoleBrowser.LaunchAsync();
        // On node B: the alert node A raised, acknowledged and assigned in place.
        var onB = await browser.OpenAsync(nodes.NodeB.BaseUrl);
        var row = onB.Locator($"tr[data-id='{id}']");
        await Assertions.Expect(row).ToContainTextAsync("Shared Rule");
        await row.ClickAsync();
        await Assertions.Expect(onB.GetByTestId("timeline-event")).ToHaveCountAsync(3);
        await onB.GetByTestId("assignee").FillAsync("kim");
        await onB.GetByTestId("acknowledge").ClickAsync();
        await Assertions.Expect(onB.GetByTestId("history")).ToContainTextAsync("status acknowledged, assignee kim");

        // On node A: the same alert, as node B left it.
        var onA = await browser.OpenAsync(nodes.NodeA.BaseUrl);
        await onA.GetByTestId("filter-status").SelectOptionAsync("acknowledged");
        await Assertions.Expect(onA.Locator($"tr[data-id='{id}'] td.assignee")).ToHaveTextAsync("kim");

        // Node B's rules and reports: the rule added on A under its tactic, the report built on A.
        await onB.GotoAsync(nodes.NodeB.BaseUrl + "/#rules");
        await Assertions.Expect(onB.Locator("td[data-tactic='command-and-control']").GetByTestId("attack-technique")).ToHaveTextAsync("T1095 (1)");
        await onB.GotoAsync(nodes.NodeB.BaseUrl + "/#reports");
        await Assertions.Expect(onB.GetByTestId("report-row").Filter(new LocatorFilterOptions { HasText = day })).ToContainTextAsync("3");
        Assert.Empty(browser.Errors);
    }

    private const string BruteForceId = "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30";

    /// <summary>Two nodes on the same backends, each with a data folder and a client of its own.</summary>
    private sealed class TwoNodes : IAsyncDisposable
    {
        private readonly TempDirectory _dataA = new();
        private readonly TempDirectory _dataB = new();

        public HydrantProcess NodeA { get; private set; } = null!;
        public HydrantProcess NodeB { get; private set; } = null!;
        public HttpClient A { get; private set; } = null!;
        public HttpClient B { get; private set; } = null!;

        public static async Task<TwoNodes> StartAsync(IReadOnlyList<string> backends)
        {
            var nodes = new TwoNodes();
            nodes.NodeA = await HydrantProcess.ServeAsync(nodes._dataA.Path, backends);
            nodes.NodeB = await HydrantProcess.ServeAsync(nodes._dataB.Path, backends);
            (nodes.A, nodes.B) = (Api.Client(nodes.NodeA.BaseUrl), Api.Client(nodes.NodeB.BaseUrl));
            return nodes;
        }

        public async ValueTask DisposeAsync()
        {
            A.Dispose();
            B.Dispose();
            await NodeA.DisposeAsync();
            await NodeB.DisposeAsync();
            _dataA.Dispose();
            _dataB.Dispose();
        }
    }

    public void Dispose() => _database.Dispose();
}
