using System.Net;
using System.Text;
using Hydrant.Events;
using Hydrant.Server.Hosting;
using Hydrant.Spool;
using Hydrant.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.IntegrationTests;

/// <summary>
/// Hostile events never stop the pipeline: every poison shape is refused at ingest by index, and
/// entries no consumer can process (accepted by an earlier build, or refused by one backend) are
/// set aside as dead letters while detection and loading go on, embedded and on the scale-out
/// backends alike.
/// </summary>
public sealed class PoisonTests
{
    private const string BruteForceId = "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30";
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 600_000;

    private static string Good(string id, long ts, string ip = "198.51.100.80") =>
        $$"""{"id":"{{id}}","timestamp":{{ts}},"eventType":"auth.failure","sourceIP":"{{ip}}","logsource":{"product":"hydrant","service":"auth"},"user":"root"}""";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>What the issue found passing ingest, each sent between two good events.</summary>
    public static TheoryData<string, byte[], string> Shapes => new()
    {
        { "deep", Utf8($$"""{"timestamp":{{Now}},"eventType":"a","sourceIP":"10.0.0.1","d":{{Deep(100)}}}"""), "nested more than 64 levels" },
        { "surrogate in logsource", Utf8($$$"""{"timestamp":{{{Now}}},"eventType":"a","sourceIP":"10.0.0.1","logsource":{"product":"\ud800"}}"""), "lone surrogate" },
        { "surrogate in a field", Utf8($$"""{"timestamp":{{Now}},"eventType":"a","sourceIP":"10.0.0.1","user":"x\udfffy"}"""), "lone surrogate" },
        { "0xFF in a name", [.. Utf8($$"""{"timestamp":{{Now}},"eventType":"a","sourceIP":"10.0.0.1","k"""), 0xFF, .. Utf8("\":1}")], "not UTF-8 in a name" },
        { "0xFF in eventType", [.. Utf8($$"""{"timestamp":{{Now}},"eventType":"a"""), 0xFF, .. Utf8("\",\"sourceIP\":\"10.0.0.1\"}")], "not UTF-8 in the string at $.eventType" },
        { "0xFF in id", [.. Utf8($$"""{"timestamp":{{Now}},"eventType":"a","sourceIP":"10.0.0.1","id":"x"""), 0xFF, .. Utf8("\"}")], "not UTF-8 in the string at $.id" },
        { "0xFF in sourceIP", [.. Utf8($$"""{"timestamp":{{Now}},"eventType":"a","sourceIP":"10.0.0."""), 0xFF, .. Utf8("\"}")], "not UTF-8 in the string at $.sourceIP" },
        { "duplicate key", Utf8($$"""{"timestamp":{{Now}},"eventType":"a","sourceIP":"10.0.0.1","user":"root","user":"nobody"}"""), "duplicate key 'user'" },
        { "NUL", Utf8($$"""{"timestamp":{{Now}},"eventType":"a","sourceIP":"10.0.0.1","user":"a\u0000"}"""), "U+0000" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Every_poison_shape_is_refused_by_index_and_the_rest_of_its_request_is_kept(string shape, byte[] poison, string reason)
    {
        using var data = new TempDirectory();
        var (app, url) = await StartAsync(data.Path, []);
        await using var _ = app;
        using var client = Api.Client(url);
        var id = "shape-" + Guid.NewGuid().ToString("N");

        var (response, answer) = await Api.PostAsync(client, [.. Utf8(Good(id + "-a", Now) + "\n"), .. poison, .. Utf8("\n" + Good(id + "-b", Now) + "\n")]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, answer.GetProperty("accepted").GetInt32());
        var rejection = Assert.Single(answer.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejection.GetProperty("index").GetInt32());
        Assert.Contains(reason, rejection.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True(2 == (await Api.QueryIdsAsync(client, $"sourceIP=198.51.100.80&from={Now - 1}&to={Now + 1}")).Count(i => i.StartsWith(id, StringComparison.Ordinal)),
            $"both good events beside the {shape} are stored");
    }

    [Fact]
    public async Task Entries_no_consumer_can_read_are_set_aside_and_detection_and_loading_go_on_embedded()
    {
        using var data = new TempDirectory();
        var (app, url) = await StartAsync(data.Path, []);
        await using var _ = app;
        await SetAsideAndGoOnAsync(app, url, textReaders: ["analytics"], backendPoison: []);
    }

    [Fact]
    public async Task Entries_a_scale_out_backend_refuses_are_found_and_set_aside_and_the_rest_is_stored()
    {
        using var data = new TempDirectory();
        using var database = new PostgresDatabase();
        var (app, url) = await StartAsync(data.Path,
        [
            "--Hydrant:Analytics:Kind=postgres", $"--Hydrant:Postgres:ConnectionString={database.ConnectionString}",
            "--Hydrant:Store:Kind=dynamodb", $"--Hydrant:DynamoDb:ServiceUrl={TestServers.DynamoDb}", $"--Hydrant:DynamoDb:TableName=test-{Guid.NewGuid():N}",
        ]);
        await using var _ = app;
        // PostgreSQL's jsonb cannot hold U+0000; DynamoDB keeps no item over 400 KB.
        await SetAsideAndGoOnAsync(app, url, textReaders: ["analytics", "store"], backendPoison:
        [
            ("analytics", "nul", Utf8($$"""{"id":"nul","timestamp":"{{Timestamps.ToText(Now)}}","eventType":"a","sourceIP":"10.0.0.1","user":"a\u0000"}""")),
            ("store", "big", Utf8($$"""{"id":"big","timestamp":"{{Timestamps.ToText(Now)}}","eventType":"a","sourceIP":"10.0.0.1","pad":"{{new string('x', 450_000)}}"}""")),
        ]);
    }

    /// <summary>
    /// Entries an earlier build accepted (it allowed them) go into the spool as they were, among
    /// good events; then a brute force arrives. It is detected, every good event is loaded, and
    /// each poison entry is a dead letter of the consumer that could not take it: the detector and
    /// the analytics loader (which checks the event against the one definition of a valid event)
    /// what is too deep or holds a lone surrogate; the text readers (the loader, the DynamoDB store
    /// writer), which keep the event as text, bytes that are not UTF-8.
    /// </summary>
    private static async Task SetAsideAndGoOnAsync(WebApplication app, string url, string[] textReaders, List<(string Consumer, string Id, byte[] Json)> backendPoison)
    {
        using var client = Api.Client(url);
        var spool = app.Services.GetRequiredService<ISpool>();
        List<(string[] Consumers, string Id, byte[] Json)> poison =
        [
            (["detector", "analytics"], "deep", Utf8($$"""{"id":"deep","timestamp":"{{Timestamps.ToText(Now)}}","eventType":"a","sourceIP":"10.0.0.1","d":{{Deep(100)}}}""")),
            (["detector", "analytics"], "surrogate", Utf8($$$"""{"id":"surrogate","timestamp":"{{{Timestamps.ToText(Now)}}}","eventType":"a","sourceIP":"10.0.0.1","logsource":{"product":"\ud800"}}""")),
            (textReaders, "ff", [.. Utf8($$"""{"id":"ff","timestamp":"{{Timestamps.ToText(Now)}}","eventType":"a","sourceIP":"10.0.0.1","k"""), 0xFF, .. Utf8("\":1}")]),
            .. backendPoison.Select(p => (new[] { p.Consumer }, p.Id, p.Json)),
        ];
        var events = new List<SecurityEvent>();
        for (var i = 0; i < poison.Count; i++)
        {
            // As the spool holds them: canonical, the time as RFC 3339 text.
            events.Add(Entry($"before-{i}", Now, Utf8(Good($"before-{i}", Now).Replace($"{Now}", $"\"{Timestamps.ToText(Now)}\"", StringComparison.Ordinal))));
            events.Add(Entry(poison[i].Id, Now, poison[i].Json));
        }
        await spool.AppendAsync(events, CancellationToken.None);

        var brute = string.Join('\n', Enumerable.Range(0, 12).Select(i => Good($"brute-{i}", Now + (i * 1000), "203.0.113.80")));
        var (posted, _) = await Api.PostAsync(client, brute);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);

        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, $"v1/alerts?rule={BruteForceId}")).Body.GetProperty("alerts") is { } a
            && a.GetArrayLength() == 1 && a[0].GetProperty("count").GetInt32() == 12, "the brute force after the poison is detected, counting all twelve", TimeSpan.FromSeconds(60));
        // Every good event, and what only another consumer could not read.
        var loadable = poison.Count + 12 + poison.Count(p => !p.Consumers.Contains("analytics"));
        await Eventually.TrueAsync(async () => await AnalyticsCountAsync(client) == loadable, $"all {loadable} loadable events are loaded", TimeSpan.FromSeconds(60));

        var expected = poison.SelectMany(p => p.Consumers.Select(c => (c, p.Json))).ToList();
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("deadLetters").GetProperty("total").GetInt64() == expected.Count,
            $"{expected.Count} dead letters are counted");
        var (listed, letters) = await Api.GetAsync(client, "v1/deadletters?limit=100");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var kept = letters.GetProperty("deadLetters").EnumerateArray()
            .Select(l => (l.GetProperty("consumer").GetString()!, Convert.FromBase64String(l.GetProperty("eventBase64").GetString()!), l.GetProperty("reason").GetString()!))
            .ToList();
        foreach (var (consumer, json) in expected)
        {
            Assert.Contains(kept, k => k.Item1 == consumer && k.Item2.AsSpan().SequenceEqual(json) && k.Item3.Length > 0);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(client, "v1/deadletters?limt=5")).Response.StatusCode);
        var metrics = await client.GetStringAsync("metrics");
        Assert.Contains("# TYPE hydrant_dead_letters counter", metrics, StringComparison.Ordinal);
        Assert.Matches("hydrant_dead_letters[^\\n]*consumer=\"analytics\"[^\\n]* [1-9]", metrics);
    }

    private static SecurityEvent Entry(string id, long ts, byte[] json) => new()
    {
        Id = id,
        TimestampMs = ts,
        EventType = "a",
        SourceIP = "10.0.0.1",
        IdFromClient = true,
        Json = json,
    };

    private static async Task<long> AnalyticsCountAsync(HttpClient client)
    {
        var (response, answer) = await Api.PostAsync(client, Utf8("""{"sql":"SELECT count(*) AS n FROM events"}"""), "v1/analytics/query");
        return response.StatusCode == HttpStatusCode.OK ? answer.GetProperty("rows")[0][0].GetInt64() : -1;
    }

    private static async Task<(WebApplication App, string Url)> StartAsync(string dataPath, IEnumerable<string> args)
    {
        var app = HydrantHost.Build(["--urls=http://127.0.0.1:0", $"--Hydrant:Data={dataPath}", "--Hydrant:Retention:Days=36500", .. args]);
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }
}
