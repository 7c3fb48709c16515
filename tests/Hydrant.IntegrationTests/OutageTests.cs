using System.Net;
using System.Text.Json;

namespace Hydrant.IntegrationTests;

/// <summary>
/// A node on DynamoDB, Redis and PostgreSQL of this test's own, under load while each server is
/// stopped in turn and started again: the spool keeps what the stopped backend cannot take (and
/// answers 429 once full), the backends catch up, and every event is in the event store and the
/// analytics store exactly once, and counted once in the alerts (a detector batch that failed while
/// Redis was down is detected again from the last commit).
/// </summary>
public sealed class OutageTests
{
    private const int BatchSize = 200;
    private const int HighWaterMark = 4_000;

    private static string Batch(int batch, long ts) => string.Join('\n', Enumerable.Range(0, BatchSize).Select(i =>
        $$"""{"id":"out-{{batch}}-{{i}}","timestamp":{{ts + i}},"eventType":"auth.failure","sourceIP":"10.9.{{batch % 50}}.{{i % 10}}","logsource":{"product":"hydrant","service":"auth"} }"""));

    [Fact]
    public async Task Stopping_each_backend_under_load_loses_nothing_and_doubles_nothing()
    {
        using var data = new TempDirectory();
        await using var postgres = await ScriptServer.StartAsync("postgres", data.File("postgres"));
        await using var redis = await ScriptServer.StartAsync("redis", data.File("redis"));
        await using var dynalite = await ScriptServer.StartAsync("dynalite", data.File("dynalite"));
        await using var node = await HydrantProcess.ServeAsync(data.File("node"),
        [
            "--Hydrant:Store:Kind=dynamodb", $"--Hydrant:DynamoDb:ServiceUrl=http://127.0.0.1:{dynalite.Port}",
            "--Hydrant:Cache:Kind=redis", $"--Hydrant:Redis:Configuration=127.0.0.1:{redis.Port}",
            "--Hydrant:Analytics:Kind=postgres", $"--Hydrant:Postgres:ConnectionString=Host=127.0.0.1;Port={postgres.Port};Username=postgres;Database=postgres",
            $"--Hydrant:Spool:HighWaterMark={HighWaterMark}",
        ]);
        using var client = Api.Client(node.BaseUrl);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 600_000;

        // The load: batches of new events, each sent again after a 429 until accepted.
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            var batch = 0;
            while (!stop.IsCancellationRequested)
            {
                var (response, body) = await Api.PostAsync(client, Batch(batch, ts + (batch * BatchSize)));
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    await Task.Delay(100);
                    continue;
                }
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(BatchSize, body.GetProperty("accepted").GetInt32());
                batch++;
            }
            return batch;
        });

        async Task<string> ReadinessOfAsync(string backend) =>
            (await Api.GetAsync(client, "readyz")).Body.GetProperty("backends").GetProperty(backend).GetProperty("status").GetString()!;
        async Task<long> AcceptedAsync() => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("ingest").GetProperty("accepted").GetInt64();
        async Task<bool> SpoolFullAsync() => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("spool").GetProperty("depth").GetInt64() >= HighWaterMark;

        foreach (var (server, backend) in new[] { (postgres, "analytics"), (redis, "redis"), (dynalite, "dynamodb") })
        {
            var before = await AcceptedAsync();
            await server.StopAsync();
            await Eventually.TrueAsync(async () => await ReadinessOfAsync(backend) == "degraded", $"/readyz reports {backend} down");
            // Ingest goes on while the backend is down, until the spool is full.
            await Eventually.TrueAsync(async () => await AcceptedAsync() >= before + 1_000 || await SpoolFullAsync(), $"events accepted while {backend} is down");
            await server.RestartAsync();
            await Eventually.TrueAsync(async () => await ReadinessOfAsync(backend) == "healthy", $"/readyz reports {backend} back", TimeSpan.FromSeconds(60));
        }
        await stop.CancelAsync();
        var batches = await load;
        var sent = batches * BatchSize;

        await Eventually.TrueAsync(async () =>
        {
            var stats = (await Api.GetAsync(client, "v1/stats")).Body;
            return stats.GetProperty("consumers").EnumerateArray().All(c => c.GetProperty("lagEvents").GetInt64() == 0);
        }, "every consumer has caught up", TimeSpan.FromSeconds(120));

        var (_, answer) = await Api.PostAsync(client, JsonSerializer.SerializeToUtf8Bytes(new { sql = "SELECT count(*), count(DISTINCT id) FROM events" }), "v1/analytics/query");
        Assert.Equal((sent, sent), (answer.GetProperty("rows")[0][0].GetInt64(), answer.GetProperty("rows")[0][1].GetInt64()));
        var ids = await Api.QueryIdsAsync(client, $"from={Api.Rfc3339(ts)}&to={Api.Rfc3339(ts + sent + 1)}&limit=10000");
        Assert.Equal(sent, ids.Count);
        Assert.Equal(sent, ids.Distinct().Count());
        Assert.True(sent > 3_000, $"only {sent} events were sent");

        // Each batch has twenty failures from each of ten addresses: the built-in brute-force rule
        // raises one alert per address, and grows it by every later failure from there.
        var addresses = Math.Min(batches, 50) * 10;
        async Task<List<JsonElement>> BruteForceAlertsAsync() =>
            [.. (await Api.GetAsync(client, "v1/alerts?rule=7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30&limit=10000")).Body.GetProperty("alerts").EnumerateArray()];
        await Eventually.TrueAsync(async () => (await BruteForceAlertsAsync()).Sum(a => a.GetProperty("count").GetInt64()) >= sent,
            "the alerts are shared", TimeSpan.FromSeconds(60));
        var alerts = await BruteForceAlertsAsync();
        Assert.Equal(addresses, alerts.Count);
        Assert.Equal(addresses, alerts.Select(a => a.GetProperty("groupKey").GetString()).Distinct().Count());
        Assert.Equal(sent, alerts.Sum(a => a.GetProperty("count").GetInt64()));
    }
}
