using System.Net;
using Hydrant.Server.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.IntegrationTests;

/// <summary>A node with detection and analytics loading switched off: it only stores (and is how ingest is measured alone).</summary>
public sealed class IngestOnlyTests
{
    private static readonly long NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Fact]
    public async Task With_detection_and_loading_off_events_are_stored_and_queryable_the_spool_drains_and_no_alert_is_raised()
    {
        using var data = new TempDirectory();
        var app = HydrantHost.Build(["--urls=http://127.0.0.1:0", $"--Hydrant:Data={data.Path}", "--Hydrant:Detection:Enabled=false", "--Hydrant:Analytics:Load=false"]);
        await app.StartAsync();
        await using var _ = app;
        using var client = Api.Client(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

        // Enough failures from one source for the built-in brute-force rule, were it running.
        var failures = string.Join('\n', Enumerable.Range(0, 12).Select(i =>
            $$"""{"id":"only-{{i}}","timestamp":{{NowMs - 60_000 + (i * 1000)}},"eventType":"auth.failure","sourceIP":"198.51.100.70","logsource":{"product":"hydrant","service":"auth"} }"""));
        var (posted, _) = await Api.PostAsync(client, failures);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);

        Assert.Equal(12, (await Api.QueryIdsAsync(client, "sourceIP=198.51.100.70&limit=100")).Count);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("spool").GetProperty("depth").GetInt64() == 0,
            "the spool drains with no consumer holding it");
        var (_, stats) = await Api.GetAsync(client, "v1/stats");
        Assert.Empty(stats.GetProperty("consumers").EnumerateArray());
        var (_, alerts) = await Api.GetAsync(client, "v1/alerts");
        Assert.Empty(alerts.GetProperty("alerts").EnumerateArray());
        var (sql, answer) = await Api.PostAsync(client, System.Text.Encoding.UTF8.GetBytes("""{"sql":"SELECT count(*) AS n FROM events"}"""), "v1/analytics/query");
        Assert.Equal(HttpStatusCode.OK, sql.StatusCode);
        Assert.Equal(0, answer.GetProperty("rows")[0][0].GetInt64());
    }
}
