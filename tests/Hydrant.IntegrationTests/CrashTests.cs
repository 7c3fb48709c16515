using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Hydrant.IntegrationTests;

public sealed class CrashTests
{
    private const int Writers = 4;
    private const int BatchSize = 200;

    [Fact]
    public async Task Every_acknowledged_event_survives_kill_9_exactly_once()
    {
        using var data = new TempDirectory();
        var server = await HydrantProcess.ServeAsync(data.Path);
        var acknowledged = new ConcurrentBag<string>();
        var sent = 0L;
        var baseMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 600_000;
        using var stop = new CancellationTokenSource();

        async Task WriteAsync(int writer)
        {
            using var client = Api.Client(server.BaseUrl);
            for (var batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var ids = Enumerable.Range(0, BatchSize).Select(i => $"crash-{writer}-{batch}-{i}").ToList();
                var body = new StringBuilder();
                foreach (var (id, i) in ids.Select((id, i) => (id, i)))
                {
                    body.Append($$"""{"id":"{{id}}","timestamp":{{baseMs + i}},"eventType":"crash.test","sourceIP":"10.9.{{writer}}.{{i % 250}}","pad":"{{new string('p', 300)}}"}""").Append('\n');
                }
                Interlocked.Add(ref sent, BatchSize);
                try
                {
                    using var response = await client.PostAsync("v1/events", new StringContent(body.ToString()));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        foreach (var id in ids)
                        {
                            acknowledged.Add(id);
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    return; // the server is gone
                }
            }
        }

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(w))).ToList();
        await Eventually.TrueAsync(() => Task.FromResult(acknowledged.Count >= 20 * BatchSize), "twenty batches are acknowledged", TimeSpan.FromSeconds(120));
        await server.KillAsync();
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        await server.DisposeAsync();

        await using var restarted = await HydrantProcess.ServeAsync(data.Path);
        using var reader = Api.Client(restarted.BaseUrl);
        var stored = await Api.QueryIdsAsync(reader, $"eventType=crash.test&from={baseMs - 1}&limit=10000");
        var storedSet = stored.ToHashSet(StringComparer.Ordinal);

        Assert.Equal(stored.Count, storedSet.Count); // nothing doubled
        var lost = acknowledged.Where(id => !storedSet.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged events were lost, e.g. {string.Join(", ", lost.Take(5))}");
        Assert.InRange(stored.Count, acknowledged.Count, Interlocked.Read(ref sent));
    }
}
