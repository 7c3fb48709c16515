using System.Net;
using DuckDB.NET.Data;
using Hydrant.Testing;
using Npgsql;

namespace Hydrant.IntegrationTests;

/// <summary>The analytics loader on a real server: every accepted event in the analytics store exactly once, across kill -9.</summary>
public abstract class AnalyticsTests
{
    /// <summary>Flags that choose the analytics backend under test.</summary>
    protected abstract IReadOnlyList<string> BackendArgs { get; }

    /// <summary>Asks the store itself, not the server: rows, distinct ids, the lowest id, rows with every column as sent.</summary>
    protected abstract (long Rows, long Ids, string FirstId, long Whole) ReadStore(string dataPath);

    protected const string CountSql =
        "SELECT count(*), count(DISTINCT id), min(id), count(*) FILTER (WHERE event_type = 'firewall.deny' AND product = 'hydrant' AND service = 'firewall') FROM events";

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
        var server = await HydrantProcess.ServeAsync(db, BackendArgs);
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

        await using (var restarted = await HydrantProcess.ServeAsync(db, BackendArgs))
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

        Assert.Equal((Events, Events, "an-0", Events), ReadStore(db));
    }
}

public sealed class DuckDbAnalyticsTests : AnalyticsTests
{
    protected override IReadOnlyList<string> BackendArgs => [];

    protected override (long Rows, long Ids, string FirstId, long Whole) ReadStore(string dataPath)
    {
        // The server is stopped: read its DuckDB file directly.
        using var connection = new DuckDBConnection($"Data Source={Path.Combine(dataPath, "analytics.duckdb")}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = CountSql;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3));
    }
}

public sealed class PostgresAnalyticsTests : AnalyticsTests, IDisposable
{
    private readonly PostgresDatabase _database = new();

    protected override IReadOnlyList<string> BackendArgs => ["--Hydrant:Analytics:Kind=postgres", $"--Hydrant:Postgres:ConnectionString={_database.ConnectionString}"];

    protected override (long Rows, long Ids, string FirstId, long Whole) ReadStore(string dataPath)
    {
        using var connection = new NpgsqlConnection(_database.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(CountSql, connection);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3));
    }

    public void Dispose() => _database.Dispose();
}
