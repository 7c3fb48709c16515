using System.Net;
using DuckDB.NET.Data;

namespace Hydrant.IntegrationTests;

/// <summary>The analytics loader on a real server: every accepted event in DuckDB exactly once, across kill -9.</summary>
public sealed class AnalyticsTests
{
    private const int Events = 60_000;
    private const int BatchSize = 1000;

    private static string Batch(int first, int count, long startMs) => string.Join('\n', Enumerable.Range(first, count).Select(i =>
        $$"""{"id":"an-{{i}}","timestamp":{{startMs + i}},"eventType":"firewall.deny","sourceIP":"10.7.{{i % 200}}.{{i % 250}}","logsource":{"product":"hydrant","service":"firewall"},"destinationPort":{{i % 1024}}}"""));

    private static async Task<long> StatAsync(HttpClient client, string name) =>
        (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("analytics").GetProperty(name).GetInt64();

    [Fact]
    public async Task After_kill_9_while_ingesting_and_loading_every_event_is_in_the_analytics_store_exactly_once()
    {
        using var data = new TempDirectory();
        var db = Path.Combine(data.Path, "db");
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (2 * 3_600_000);
        var server = await HydrantProcess.ServeAsync(db);
        using (var client = Api.Client(server.BaseUrl))
        {
            // Ingest goes on while the loader commits; the kill lands wherever they both are.
            var sending = Task.Run(async () =>
            {
                for (var first = 0; first < Events; first += BatchSize)
                {
                    await Api.PostAsync(client, Batch(first, BatchSize, start));
                }
            });
            await Eventually.TrueAsync(async () => await StatAsync(client, "rows") > 0, "loading has begun");
            await server.KillAsync();
            await sending.ContinueWith(_ => { }, TaskScheduler.Default); // cut off mid-stream, or just done
        }
        await server.DisposeAsync();

        await using (var restarted = await HydrantProcess.ServeAsync(db))
        {
            using var client = Api.Client(restarted.BaseUrl);
            // Everything is sent again: what was accepted before the crash comes back as duplicates.
            var duplicates = 0;
            for (var first = 0; first < Events; first += BatchSize)
            {
                var (again, answer) = await Api.PostAsync(client, Batch(first, BatchSize, start));
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
                duplicates += answer.GetProperty("duplicates").GetInt32();
            }
            Assert.True(duplicates > 0, "events were accepted before the crash");
            await Eventually.TrueAsync(async () => await StatAsync(client, "lagEvents") == 0, "the loader has caught up", TimeSpan.FromSeconds(120));
            Assert.Equal(Events, await StatAsync(client, "rows"));
        }

        // The server is stopped: read its DuckDB file directly.
        using var connection = new DuckDBConnection($"Data Source={Path.Combine(db, "analytics.duckdb")}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*), count(DISTINCT id), min(id), count(*) FILTER (WHERE event_type = 'firewall.deny' AND product = 'hydrant' AND service = 'firewall') FROM events";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((Events, Events, "an-0", Events), (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3)));
    }
}
