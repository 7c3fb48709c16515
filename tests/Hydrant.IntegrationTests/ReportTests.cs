using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Generation;
using Hydrant.Keys;
using Hydrant.Testing;

namespace Hydrant.IntegrationTests;

/// <summary>
/// Daily reports and ad-hoc SQL on a real server: every figure is checked against aggregates this
/// test computes itself from the events it sent, sent out of order, partly twice, across midnight.
/// </summary>
public abstract class ReportTests
{
    /// <summary>Flags that choose the analytics backend under test.</summary>
    protected abstract IReadOnlyList<string> BackendArgs { get; }

    /// <summary>The engine's literal for the list [1, 2].</summary>
    protected abstract string ListLiteral { get; }

    /// <summary>A SELECT that would read /etc/passwd on the engine's machine.</summary>
    protected abstract string FileReadingSql { get; }

    private Task<HydrantProcess> ServeAsync(string dataPath, params string[] args) => HydrantProcess.ServeAsync(dataPath, [.. BackendArgs, .. args]);

    private const long DayMs = 86_400_000;

    private sealed record Sent(string Id, long TimestampMs, string EventType, string SourceIP);

    private static string DateText(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static Sent Describe(string line)
    {
        using var e = JsonDocument.Parse(line);
        var root = e.RootElement;
        return new Sent(root.GetProperty("id").GetString()!, Timestamps.ParseCanonical(root.GetProperty("timestamp").GetString()!),
            root.GetProperty("eventType").GetString()!, root.GetProperty("sourceIP").GetString()!);
    }

    private static string Line(string id, long ms, string type, string source) =>
        JsonSerializer.Serialize(new { id, timestamp = Timestamps.ToText(ms), eventType = type, sourceIP = source, logsource = new { product = "hydrant", service = "test" } });

    private static async Task PostLinesAsync(HttpClient client, IEnumerable<string> lines)
    {
        foreach (var chunk in lines.Chunk(500))
        {
            var (response, body) = await Api.PostAsync(client, string.Join('\n', chunk));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(body.GetProperty("rejected").EnumerateArray());
        }
    }

    private static async Task WaitForConsumersAsync(HttpClient client) =>
        await Eventually.TrueAsync(async () =>
        {
            var stats = (await Api.GetAsync(client, "v1/stats")).Body;
            return stats.GetProperty("consumers").EnumerateArray().All(c => c.GetProperty("lagEvents").GetInt64() == 0);
        }, "the detector and the analytics loader have caught up", TimeSpan.FromSeconds(60));

    [Fact]
    public async Task An_alert_is_in_the_analytics_store_as_committed_before_any_report_is_built()
    {
        using var data = new TempDirectory();
        await using var server = await ServeAsync(data.Path);
        using var client = Api.Client(server.BaseUrl);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var failures = Enumerable.Range(0, 12).Select(i => JsonSerializer.Serialize(new
        {
            id = $"sql-alert-{i}",
            timestamp = Timestamps.ToText(now - 60_000 + (i * 1000)),
            eventType = "auth.failure",
            sourceIP = "198.51.100.77",
            logsource = new { product = "hydrant", service = "auth" },
        }));
        await PostLinesAsync(client, failures);
        var alert = await TriageTests.OneAlertAsync(client, "sourceIP=198.51.100.77", "the brute force raised its alert");
        await WaitForConsumersAsync(client);
        var (id, count) = (alert.GetProperty("id").GetString()!, (await Api.GetAsync(client, "v1/alerts/" + alert.GetProperty("id").GetString())).Body.GetProperty("alert").GetProperty("count").GetInt64());

        JsonElement answer = default;
        await Eventually.TrueAsync(async () =>
        {
            answer = (await Api.PostAsync(client, JsonSerializer.SerializeToUtf8Bytes(new { sql = "SELECT id, count, title FROM alerts" }), "v1/analytics/query")).Body.Clone();
            return answer.GetProperty("rows").GetArrayLength() == 1 && answer.GetProperty("rows")[0][1].GetInt64() == count;
        }, "the alert reached the analytics store as it now is", TimeSpan.FromSeconds(30));
        Assert.Equal(id, answer.GetProperty("rows")[0][0].GetString());
        Assert.Equal("SSH Brute Force", answer.GetProperty("rows")[0][2].GetString());
    }

    [Fact]
    public async Task A_daily_report_equals_the_aggregates_of_the_events_sent_across_midnight_out_of_order_and_resent()
    {
        using var data = new TempDirectory();
        await using var server = await ServeAsync(data.Path);
        using var client = Api.Client(server.BaseUrl);

        var dayStart = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / DayMs - 2) * DayMs;
        var date = DateText(dayStart);
        var options = new GeneratorOptions { Count = 8000, Days = 3, EndMs = dayStart + DayMs + (3 * 3_600_000), Sources = 300, Attacker = "203.0.113.66" };
        var generator = new EventGenerator(options);
        var lines = Encoding.UTF8.GetString(Api.Generate(options))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        // A millisecond either side of both midnights.
        lines.Add(Line("edge-1", dayStart - 1, "edge.before", "198.51.100.1"));
        lines.Add(Line("edge-2", dayStart, "edge.first", "198.51.100.2"));
        lines.Add(Line("edge-3", dayStart + DayMs - 1, "edge.last", "198.51.100.3"));
        lines.Add(Line("edge-4", dayStart + DayMs, "edge.after", "198.51.100.4"));
        // Seen in the 7 days before (so not new), and 9 days before (so still new).
        var known = generator.Sources.Take(40).ToList();
        lines.AddRange(known.Select((s, i) => Line($"before-{i}", dayStart - (3 * DayMs) + i, "dns.query", s)));
        lines.Add(Line("long-ago", dayStart - (9 * DayMs), "dns.query", "198.51.100.2"));

        var shuffled = lines.OrderBy(_ => Random.Shared.Next()).ToList();
        await PostLinesAsync(client, shuffled);
        await PostLinesAsync(client, shuffled.Take(1500)); // re-sent: the same ids are duplicates
        await WaitForConsumersAsync(client);

        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(client, $"v1/reports/daily/{date}")).Response.StatusCode);
        var (built, report) = await Api.PostAsync(client, [], $"v1/reports/daily/{date}");
        Assert.Equal(HttpStatusCode.OK, built.StatusCode);

        var sent = lines.Select(Describe).ToList();
        var day = sent.Where(e => e.TimestampMs >= dayStart && e.TimestampMs < dayStart + DayMs).ToList();
        Assert.Equal(date, report.GetProperty("date").GetString());
        Assert.Equal(day.Count, report.GetProperty("totalEvents").GetInt64());
        Assert.Equal(
            day.GroupBy(e => e.EventType).ToDictionary(g => g.Key, g => (long)g.Count()),
            report.GetProperty("byType").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        Assert.Contains("edge.first", report.GetProperty("byType").EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("edge.after", report.GetProperty("byType").EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            Enumerable.Range(0, 24).Select(h => (long)day.Count(e => (e.TimestampMs - dayStart) / 3_600_000 == h)),
            report.GetProperty("byHour").EnumerateArray().Select(n => n.GetInt64()));
        Assert.Equal(
            day.GroupBy(e => e.SourceIP).Select(g => (g.Key, (long)g.Count())).OrderByDescending(s => s.Item2).ThenBy(s => s.Key, StringComparer.Ordinal).Take(20),
            report.GetProperty("topSources").EnumerateArray().Select(s => (s.GetProperty("sourceIP").GetString()!, s.GetProperty("count").GetInt64())));
        var before = sent.Where(e => e.TimestampMs >= dayStart - (7 * DayMs) && e.TimestampMs < dayStart).Select(e => e.SourceIP).ToHashSet();
        var expectedNew = day.Select(e => e.SourceIP).Distinct().Where(s => !before.Contains(s)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedNew, report.GetProperty("newSources").EnumerateArray().Select(s => s.GetString()!));
        Assert.Contains("198.51.100.2", expectedNew); // seen 9 days before only
        Assert.DoesNotContain(known[0], expectedNew);
        var shards = new long[SourceShard.MainShards];
        foreach (var e in day)
        {
            shards[SourceShard.Main(SourceShard.Hash(e.SourceIP))]++;
        }
        Assert.Equal(shards, report.GetProperty("partitionHeat").GetProperty("shards").EnumerateArray().Select(n => n.GetInt64()));
        Assert.Equal(Math.Round(shards.Max() / (day.Count / 100.0), 3), report.GetProperty("partitionHeat").GetProperty("maxOverMean").GetDouble(), 3);

        // Alerts: those whose first event falls on the day, as the alert API lists them.
        var alerts = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = (await Api.GetAsync(client, $"v1/alerts?from={Api.Rfc3339(dayStart - (10 * DayMs))}&limit=1000" + (cursor is null ? string.Empty : "&cursor=" + cursor))).Body;
            alerts.AddRange(page.GetProperty("alerts").EnumerateArray());
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);
        var dayAlerts = alerts.Where(a => Timestamps.ParseCanonical(a.GetProperty("firstSeen").GetString()!) is var first && first >= dayStart && first < dayStart + DayMs).ToList();
        Assert.NotEmpty(dayAlerts); // the attacker trips the built-in brute-force and scan rules
        var figures = report.GetProperty("alerts");
        Assert.Equal(dayAlerts.Count, figures.GetProperty("total").GetInt64());
        Assert.Equal(
            dayAlerts.GroupBy(a => a.GetProperty("ruleId").GetString()!).ToDictionary(g => g.Key, g => (long)g.Count()),
            figures.GetProperty("byRule").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        Assert.Equal(
            dayAlerts.GroupBy(a => a.GetProperty("level").GetString()!).ToDictionary(g => g.Key, g => (long)g.Count()),
            figures.GetProperty("byLevel").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));

        // Stored: the same figures come back, as JSON, one HTML page with charts, and Markdown.
        var (stored, storedReport) = await Api.GetAsync(client, $"v1/reports/daily/{date}");
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(report.GetRawText(), storedReport.GetRawText());
        var listed = (await Api.GetAsync(client, "v1/reports/daily?limit=5")).Body.GetProperty("reports").EnumerateArray().Single(r => r.GetProperty("date").GetString() == date);
        Assert.Equal((day.Count, (long)dayAlerts.Count), (listed.GetProperty("totalEvents").GetInt64(), listed.GetProperty("alerts").GetInt64()));
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(client, "v1/reports/daily?limit=0")).Response.StatusCode);
        var html = await client.GetStringAsync($"v1/reports/daily/{date}?format=html");
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(4, html.Split("<svg").Length - 1);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        var markdown = await client.GetStringAsync($"v1/reports/daily/{date}?format=md");
        Assert.Contains($"# Hydrant daily report {date} (UTC)", markdown, StringComparison.Ordinal);
        Assert.Contains($"| edge.first | 1 |", markdown, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(client, $"v1/reports/daily/{date}?format=pdf")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(client, "v1/reports/daily/2026-13-01")).Response.StatusCode);

        // The CLI prints the stored report, and builds one that is missing.
        using var output = new TempDirectory();
        var file = Path.Combine(output.Path, "report.md");
        var (exit, _, stderr) = await HydrantProcess.RunAsync(["report", "--date", date, "--format", "md", "--out", file, "--url", server.BaseUrl]);
        Assert.True(exit == 0, stderr);
        Assert.Equal(markdown, await File.ReadAllTextAsync(file));
        var previous = DateText(dayStart - DayMs);
        var (built2, json, _) = await HydrantProcess.RunAsync(["report", "--date", previous, "--url", server.BaseUrl]);
        Assert.Equal(0, built2);
        Assert.Equal(sent.Count(e => e.TimestampMs >= dayStart - DayMs && e.TimestampMs < dayStart), JsonDocument.Parse(json).RootElement.GetProperty("totalEvents").GetInt64());
    }

    [Fact]
    public async Task Reports_are_built_daily_at_the_configured_time_and_at_start_up_for_earlier_days_without_one()
    {
        using var data = new TempDirectory();
        var now = DateTimeOffset.UtcNow;
        var today = now.ToUnixTimeMilliseconds() / DayMs * DayMs;
        var at = now.AddSeconds(15).UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        var yesterday = DateText(today - DayMs);
        var earlier = DateText(today - (3 * DayMs));
        await using (var server = await ServeAsync(data.Path, $"--Hydrant:Reports:DailyAt={at}"))
        {
            using var client = Api.Client(server.BaseUrl);
            await PostLinesAsync(client, [
                Line("y-1", today - DayMs + 1000, "auth.failure", "198.51.100.7"),
                Line("y-2", today - 1000, "auth.failure", "198.51.100.8"),
            ]);
            await Eventually.TrueAsync(
                async () => (await Api.GetAsync(client, $"v1/reports/daily/{yesterday}")).Response.StatusCode == HttpStatusCode.OK,
                $"the scheduled build at {at} UTC has stored yesterday's report", TimeSpan.FromSeconds(60));
            Assert.Equal(2, (await Api.GetAsync(client, $"v1/reports/daily/{yesterday}")).Body.GetProperty("totalEvents").GetInt64());
            await PostLinesAsync(client, [Line("e-1", today - (3 * DayMs) + 5000, "dns.query", "198.51.100.9")]);
        }
        await using (var restarted = await ServeAsync(data.Path))
        {
            using var client = Api.Client(restarted.BaseUrl);
            await Eventually.TrueAsync(
                async () => (await Api.GetAsync(client, $"v1/reports/daily/{earlier}")).Response.StatusCode == HttpStatusCode.OK,
                "start-up has built the report of the earlier day", TimeSpan.FromSeconds(60));
            Assert.Equal(1, (await Api.GetAsync(client, $"v1/reports/daily/{earlier}")).Body.GetProperty("totalEvents").GetInt64());
        }
    }

    [Fact]
    public async Task A_report_that_events_arrived_for_after_it_was_built_is_rebuilt()
    {
        using var data = new TempDirectory();
        var today = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / DayMs * DayMs;
        var yesterday = DateText(today - DayMs);
        await using var server = await ServeAsync(data.Path, "--Hydrant:Reports:StaleCheckSeconds=1");
        using var client = Api.Client(server.BaseUrl);
        await PostLinesAsync(client, [Line("late-1", today - DayMs + 1000, "auth.failure", "198.51.100.17")]);
        await WaitForConsumersAsync(client);
        var (built, json, _) = await HydrantProcess.RunAsync(["report", "--date", yesterday, "--url", server.BaseUrl]);
        Assert.Equal(0, built);
        Assert.Equal(1, JsonDocument.Parse(json).RootElement.GetProperty("totalEvents").GetInt64());

        // Late events for yesterday (a collector that was down): the report is built again by itself.
        await PostLinesAsync(client, [Line("late-2", today - DayMs + 2000, "auth.failure", "198.51.100.17"), Line("late-3", today - 1000, "auth.failure", "198.51.100.18")]);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, $"v1/reports/daily/{yesterday}")).Body.GetProperty("totalEvents").GetInt64() == 3,
            "the stale report is rebuilt with the late events", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Report_rebuild_builds_a_stale_report_at_once()
    {
        using var data = new TempDirectory();
        var today = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / DayMs * DayMs;
        var yesterday = DateText(today - DayMs);
        await using var server = await ServeAsync(data.Path);
        using var client = Api.Client(server.BaseUrl);
        await PostLinesAsync(client, [Line("r-1", today - DayMs + 1000, "auth.failure", "198.51.100.27")]);
        await WaitForConsumersAsync(client);
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, [], $"v1/reports/daily/{yesterday}")).Response.StatusCode);
        await PostLinesAsync(client, [Line("r-2", today - DayMs + 2000, "auth.failure", "198.51.100.27")]);
        await WaitForConsumersAsync(client);

        // Until the next check (ten minutes) the stored report is the one built before.
        var (_, stored, _) = await HydrantProcess.RunAsync(["report", "--date", yesterday, "--url", server.BaseUrl]);
        Assert.Equal(1, JsonDocument.Parse(stored).RootElement.GetProperty("totalEvents").GetInt64());
        var (rebuilt, now, _) = await HydrantProcess.RunAsync(["report", "--date", yesterday, "--rebuild", "--url", server.BaseUrl]);
        Assert.Equal(0, rebuilt);
        Assert.Equal(2, JsonDocument.Parse(now).RootElement.GetProperty("totalEvents").GetInt64());
    }

    /// <summary>A SELECT that runs until its time limit stops it.</summary>
    protected abstract string EndlessSql { get; }

    [Fact]
    public async Task Ad_hoc_queries_past_the_concurrency_limit_are_answered_429_and_a_huge_answer_is_cut_by_bytes()
    {
        using var data = new TempDirectory();
        await using var server = await ServeAsync(data.Path, "--Hydrant:Analytics:MaxConcurrentQueries=1", "--Hydrant:Analytics:QueryTimeoutSeconds=8",
            "--Hydrant:Analytics:MaxAnswerBytes=2000000");
        using var client = Api.Client(server.BaseUrl);
        var slow = Api.PostAsync(client, JsonSerializer.SerializeToUtf8Bytes(new { sql = EndlessSql }), "v1/analytics/query");
        // While the slow one holds the only slot, another waits briefly and is told to come back.
        (HttpResponseMessage Response, JsonElement Body) refused = default;
        await Eventually.TrueAsync(async () =>
        {
            refused = await Api.PostAsync(client, JsonSerializer.SerializeToUtf8Bytes(new { sql = "SELECT 1" }), "v1/analytics/query");
            return refused.Response.StatusCode == HttpStatusCode.TooManyRequests;
        }, "a second query is refused while the first runs", TimeSpan.FromSeconds(20));
        Assert.Contains("MaxConcurrentQueries", refused.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("query timed out", (await slow).Body.GetProperty("error").GetString());

        var (response, answer) = await Api.PostAsync(client, JsonSerializer.SerializeToUtf8Bytes(new { sql = "SELECT repeat('x', 1000000) AS x FROM generate_series(1, 60)" }), "v1/analytics/query");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(answer.GetProperty("truncated").GetBoolean());
        Assert.Equal("bytes", answer.GetProperty("truncatedBy").GetString());
        Assert.Equal(2, answer.GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task Ad_hoc_sql_answers_one_read_only_query_as_json_or_csv_and_refuses_everything_else()
    {
        using var data = new TempDirectory();
        await using var server = await ServeAsync(data.Path);
        using var client = Api.Client(server.BaseUrl);
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;
        await PostLinesAsync(client, Enumerable.Range(0, 300).Select(i => Line($"q-{i}", start + i, i % 3 == 0 ? "auth.failure" : "dns.query", $"10.1.0.{i % 7}")));
        await WaitForConsumersAsync(client);

        async Task<(HttpStatusCode Status, JsonElement Body)> QueryAsync(string sql, string query = "")
        {
            var (response, body) = await Api.PostAsync(client, JsonSerializer.SerializeToUtf8Bytes(new { sql }), "v1/analytics/query" + query);
            return (response.StatusCode, body);
        }

        var (status, answer) = await QueryAsync("SELECT count(*) AS n FROM events");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"columns":["n"],"rows":[[300]],"truncated":false}""", answer.GetRawText());
        (status, answer) = await QueryAsync($"""
            -- a comment; with a semicolon
            WITH f AS (SELECT * FROM events WHERE event_type = 'auth.failure;')
            SELECT event_type, count(*) AS n, min(timestamp) AS first_at, {ListLiteral} AS list FROM events GROUP BY event_type ORDER BY n DESC;
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var rows = answer.GetProperty("rows");
        Assert.Equal(("dns.query", 200L), (rows[0][0].GetString(), rows[0][1].GetInt64()));
        Assert.Equal(("auth.failure", 100L), (rows[1][0].GetString(), rows[1][1].GetInt64()));
        Assert.Equal(Api.Rfc3339(start), answer.GetProperty("rows")[1][2].GetString());
        Assert.Equal("[1,2]", answer.GetProperty("rows")[0][3].GetRawText());
        (status, answer) = await QueryAsync("SELECT id FROM events ORDER BY id", "?maxRows=5");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5, answer.GetProperty("rows").GetArrayLength());
        Assert.True(answer.GetProperty("truncated").GetBoolean());

        var csv = await client.PostAsync("v1/analytics/query?format=csv", new StringContent("""{"sql":"SELECT source_ip, count(*) AS n FROM events GROUP BY 1 ORDER BY 1 LIMIT 2"}"""));
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("source_ip,n\r\n10.1.0.0,43\r\n10.1.0.1,43\r\n", await csv.Content.ReadAsStringAsync());

        foreach (var write in new[]
        {
            "DELETE FROM events",
            "INSERT INTO events SELECT * FROM events",
            "DROP TABLE events",
            "UPDATE loader_checkpoint SET position = 0",
            "SELECT 1; DELETE FROM events",
            "SELECT 1; SELECT 2",
            "WITH x AS (SELECT 1) INSERT INTO events SELECT * FROM events",
            "COPY events TO '/tmp/hydrant-leak.csv'",
            "SELECT * FROM read_csv('/etc/passwd')",
            FileReadingSql,
            "ATTACH '/tmp/other.duckdb'",
            "SET memory_limit = '64GB'",
        })
        {
            (status, answer) = await QueryAsync(write);
            Assert.True(status == HttpStatusCode.BadRequest, $"{write} was answered {status}");
            Assert.False(string.IsNullOrEmpty(answer.GetProperty("detail").GetString()), write);
        }
        Assert.Equal("""{"columns":["n"],"rows":[[300]],"truncated":false}""", (await QueryAsync("SELECT count(*) AS n FROM events")).Body.GetRawText());
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync("SELECT * FROM no_such_table")).Status);

        var (exit, stdout, stderr) = await HydrantProcess.RunAsync(["sql", "SELECT count(*) AS n FROM events WHERE event_type = 'auth.failure'", "--format", "csv", "--url", server.BaseUrl]);
        Assert.True(exit == 0, stderr);
        Assert.Equal("n\r\n100\r\n", stdout);
        (exit, _, stderr) = await HydrantProcess.RunAsync(["sql", "DELETE FROM events", "--url", server.BaseUrl]);
        Assert.Equal(2, exit);
        Assert.Contains("DELETE", stderr, StringComparison.Ordinal);
    }
}

public sealed class EmbeddedReportTests : ReportTests
{
    protected override IReadOnlyList<string> BackendArgs => [];

    protected override string EndlessSql => "SELECT count(*) FROM range(1000000000000) a";

    protected override string ListLiteral => "[1, 2]";

    protected override string FileReadingSql => "SELECT * FROM read_text('/etc/passwd')";
}

public sealed class PostgresReportTests : ReportTests, IDisposable
{
    private readonly PostgresDatabase _database = new();

    protected override IReadOnlyList<string> BackendArgs => ["--Hydrant:Analytics:Kind=postgres", $"--Hydrant:Postgres:ConnectionString={_database.ConnectionString}"];

    protected override string EndlessSql => "SELECT count(*) FROM generate_series(1, 1000000000000) a";

    protected override string ListLiteral => "ARRAY[1, 2]";

    protected override string FileReadingSql => "SELECT pg_read_file('/etc/passwd')";

    public void Dispose() => _database.Dispose();
}
