using System.Net;
using Hydrant.Server.Hosting;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.IntegrationTests;

/// <summary>The host on a real loopback socket, with a spool consumer that holds back until the test lets it go.</summary>
public sealed class BackPressureTests
{
    private sealed class HeldConsumer : ISpoolConsumer
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _consumed;

        public string Name => "held";

        public SpoolBatching Batching => SpoolBatching.Immediate;

        public long Consumed => Interlocked.Read(ref _consumed);

        public void Release() => _release.TrySetResult();

        public ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0L);

        public async ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken)
        {
            await _release.Task.WaitAsync(cancellationToken);
            Interlocked.Add(ref _consumed, entries.Count);
        }
    }

    private static readonly long Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000;

    private static string Batch(string prefix, int count) => string.Join('\n', Enumerable.Range(0, count).Select(i =>
        $$"""{"id":"{{prefix}}-{{i}}","timestamp":{{Timestamp}},"eventType":"bp","sourceIP":"198.51.100.20"}"""));

    /// <summary>A host whose spool takes 10 entries before it answers 429, with a consumer held back.</summary>
    private static async Task<(WebApplication App, string Url)> StartSaturableAsync(string dataPath, HeldConsumer consumer)
    {
        var app = HydrantHost.Build(
            ["--urls=http://127.0.0.1:0", $"--Hydrant:Data={dataPath}", "--Hydrant:Spool:HighWaterMark=10"],
            configureServices: services => services.AddSingleton<ISpoolConsumer>(consumer));
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    [Fact]
    public async Task A_saturated_spool_answers_429_with_retry_after_and_loses_nothing()
    {
        using var data = new TempDirectory();
        var consumer = new HeldConsumer();
        var (app, url) = await StartSaturableAsync(data.Path, consumer);
        await using var _ = app;
        using var client = Api.Client(url);

        var (first, _) = await Api.PostAsync(client, Batch("first", 20));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        var (throttled, problem) = await Api.PostAsync(client, Batch("second", 5));
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), throttled.Headers.RetryAfter?.Delta);
        Assert.Equal("saturated", problem.GetProperty("error").GetString());
        var (notReady, _) = await Api.GetAsync(client, "readyz");
        Assert.Equal(HttpStatusCode.OK, notReady.StatusCode); // degraded still serves reads

        consumer.Release();
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("spool").GetProperty("depth").GetInt64() == 0,
            "the spool drains once the consumer is released");
        Assert.Equal(20, consumer.Consumed);

        var (retried, _) = await Api.PostAsync(client, Batch("second", 5));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        var ids = await Api.QueryIdsAsync(client, "sourceIP=198.51.100.20&limit=100");
        Assert.Equal(25, ids.Count);
        Assert.Equal(1, app.Services.GetRequiredService<IngestStats>().Throttled);
        await app.StopAsync();
    }

    [Fact]
    public async Task The_ingest_command_waits_out_429s_and_then_delivers_everything()
    {
        using var data = new TempDirectory();
        var consumer = new HeldConsumer();
        var (app, url) = await StartSaturableAsync(data.Path, consumer);
        await using var _ = app;
        using var client = Api.Client(url);
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Batch("saturate", 20))).Response.StatusCode);
        var file = data.File("later.ndjson");
        await File.WriteAllTextAsync(file, Batch("later", 7));
        var stats = app.Services.GetRequiredService<IngestStats>();

        var ingest = HydrantProcess.RunAsync(["ingest", file, "--url", url]);
        await Eventually.TrueAsync(() => Task.FromResult(stats.Throttled >= 2), "the command has been answered 429 twice");
        Assert.False(ingest.IsCompleted);
        consumer.Release();

        var (exit, stdout, _) = await ingest;
        Assert.Equal(0, exit);
        Assert.Contains("accepted 7 (duplicates 0), rejected 0", stdout, StringComparison.Ordinal);
        Assert.Matches("throttled [1-9][0-9]* times", stdout);
        Assert.Equal(27, (await Api.QueryIdsAsync(client, "sourceIP=198.51.100.20&limit=100")).Count);
        await app.StopAsync();
    }
}
