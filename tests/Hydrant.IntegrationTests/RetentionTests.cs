using System.Net;

namespace Hydrant.IntegrationTests;

/// <summary>What is older than the retention period is refused at ingest, never accepted and dropped at the next start.</summary>
public sealed class RetentionTests
{
    private const long Day = 86_400_000;

    [Fact]
    public async Task An_event_older_than_retention_is_refused_by_index_and_a_query_reaching_back_that_far_says_it_is_not_kept()
    {
        using var data = new TempDirectory();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var (old, recent) = (Api.Rfc3339(now - (200 * Day)), Api.Rfc3339(now - 60_000));
        await using (var server = await HydrantProcess.ServeAsync(data.Path))
        {
            using var client = Api.Client(server.BaseUrl);
            var (response, answer) = await Api.PostAsync(client, $$"""
                {"id":"ret-old","timestamp":"{{old}}","eventType":"auth.failure","sourceIP":"198.51.100.90"}
                {"id":"ret-new","timestamp":"{{recent}}","eventType":"auth.failure","sourceIP":"198.51.100.90"}
                """);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, answer.GetProperty("accepted").GetInt32());
            var rejection = Assert.Single(answer.GetProperty("rejected").EnumerateArray());
            Assert.Equal(0, rejection.GetProperty("index").GetInt32());
            Assert.Contains("older than the retention period of 90 days", rejection.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        // What was accepted is still there after a restart, and the plan says where the kept time begins.
        await using var restarted = await HydrantProcess.ServeAsync(data.Path);
        using var again = Api.Client(restarted.BaseUrl);
        var (_, page) = await Api.GetAsync(again, $"v1/events?sourceIP=198.51.100.90&from={Uri.EscapeDataString(Api.Rfc3339(now - (300 * Day)))}&to={Uri.EscapeDataString(Api.Rfc3339(now))}");
        Assert.Equal(["ret-new"], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        Assert.True(page.GetProperty("plan").GetProperty("reachesPastRetention").GetBoolean());
        Assert.StartsWith(DateTimeOffset.UtcNow.AddDays(-90).ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), page.GetProperty("plan").GetProperty("keptFrom").GetString(), StringComparison.Ordinal);
    }
}
