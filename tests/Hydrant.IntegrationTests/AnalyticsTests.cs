using System.Net;
using DuckDB.NET.Data;

namespace Hydrant.IntegrationTests;

/// <summary>The analytics loader on a real server: every accepted event in DuckDB exactly once, across kill -9.</summary>
public sealed class AnalyticsTests
{
    private const int Events = 20_000;

    private static string Batch(int first, int count, long startMs) => string.Join('\n', Enumerable.Range(first, count).Select(i =>
        $$"""{"id":"an-{{i}}","timestamp":{{startMs + i}},"eventType":"firewall.deny","sourceIP":"10.7.{{i % 200}}.{{i % 250}}","logsource":{"product":"hydrant","service":"firewall"},"destinationPort":{{i % 1024}}}"""));

    private static async Task<long> StatAsync(HttpClient client, string name) =>
        (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("analytics").GetProperty(name).GetInt64();

    [Fact]
    public async Task After_kill_9_while_loading_every_event_is_in_the_analytics_store_exactly_once()
    {
        using var data = new TempDirectory();
        var db = Path.Combine(data.Path, "db");
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (2 * 3_600_000);
        var server = await HydrantProcess.ServeAsync(db);
        using (var client = Api.Client(server.BaseUrl))
        {
            for (var first = 0; first < Events; first += 1000)
            {
                Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Batch(first, 1000, start))).Response.StatusCode);
            }
            await Eventually.TrueAsync(async () => await StatAsync(client, "rows") > 0, "loading has begun");
        }
        await server.KillAsync();
        await server.DisposeAsync();

        await using (var restarted = await HydrantProcess.ServeAsync(db))
        {
            using var client = Api.Client(restarted.BaseUrl);
            // Sent again after the crash: the same ids are duplicates, not new rows.
            var (again, answer) = await Api.PostAsync(client, Batch(0, 1000, start));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(1000, answer.GetProperty("duplicates").GetInt32());
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
