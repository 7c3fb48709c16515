using System.Net;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Generation;

namespace Hydrant.IntegrationTests;

/// <summary>Each plan of the query planner over HTTP, against a server of this test's own so counts are exact.</summary>
public sealed class RoundTripTests
{
    private const long Hour = 3_600_000;
    private const string Attacker = "203.0.113.77";

    [Fact]
    public async Task Source_hot_and_shard_plans_return_exactly_the_events_in_range()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);
        using var client = Api.Client(server.BaseUrl);
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ndjson = Api.Generate(new GeneratorOptions { Count = 6000, Days = 40, Sources = 300, SizeBytes = 300, Attacker = Attacker, EndMs = nowMs - 60_000, Seed = 11 });
        var (response, answer) = await Api.PostAsync(client, ndjson);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(6000, answer.GetProperty("accepted").GetInt32());

        using var expected = new EventParser(EventLimits.Default, TimeProvider.System).Parse(ndjson);
        List<string> Expect(Func<SecurityEvent, bool> where) =>
            [.. expected.Events.Where(where).OrderByDescending(e => e.TimestampMs).ThenByDescending(e => e.EventType, StringComparer.Ordinal).ThenByDescending(e => e.Id, StringComparer.Ordinal).Select(e => e.Id)];

        var hotFrom = nowMs - (20 * Hour);
        await AssertPlanAsync(client, $"from={hotFrom}&to={nowMs}&limit=1000", "hot", Expect(e => e.TimestampMs >= hotFrom && e.TimestampMs < nowMs));

        var from = nowMs - (30 * 24 * Hour);
        var to = nowMs - (2 * 24 * Hour);
        await AssertPlanAsync(client, $"from={from}&to={to}&limit=1000", "shards", Expect(e => e.TimestampMs >= from && e.TimestampMs < to));

        var sourceFrom = nowMs - (41 * 24 * Hour);
        await AssertPlanAsync(client, $"sourceIP={Attacker}&from={sourceFrom}&limit=100", "source", Expect(e => e.SourceIP == Attacker));

        await AssertPlanAsync(client, $"eventType=auth.failure&from={from}&to={to}&limit=10000", "shards",
            Expect(e => e.EventType == "auth.failure" && e.TimestampMs >= from && e.TimestampMs < to));
    }

    private static async Task AssertPlanAsync(HttpClient client, string query, string index, List<string> expected)
    {
        Assert.NotEmpty(expected);
        var (_, first) = await Api.GetAsync(client, $"v1/events?{query}&explain=true");
        Assert.Equal(index, first.GetProperty("plan").GetProperty("index").GetString());
        Assert.True(first.GetProperty("plan").GetProperty("itemsRead").GetInt64() >= first.GetProperty("events").GetArrayLength());
        var ids = await Api.QueryIdsAsync(client, query);
        Assert.Equal(expected, ids);
        var timestamps = first.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("timestamp").GetString()!).ToList();
        Assert.Equal(timestamps.OrderDescending(StringComparer.Ordinal), timestamps);
        Assert.Equal(JsonValueKind.Object, first.GetProperty("plan").ValueKind);
    }
}
