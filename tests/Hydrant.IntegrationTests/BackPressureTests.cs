using System.Net;
using Hydrant.Server.Hosting;
using Hydrant.Spool;
using Hydrant.Storage;
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

        public long Consumed => Interlocked.Read(ref _consumed);

        public void Release() => _release.TrySetResult();

        public ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0L);

        public async ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken)
        {
            await _release.Task.WaitAsync(cancellationToken);
            Interlocked.Add(ref _consumed, entries.Count);
        }
    }

    [Fact]
    public async Task A_saturated_spool_answers_429_with_retry_after_and_loses_nothing()
    {
        using var data = new TempDirectory();
        var consumer = new HeldConsumer();
        await using var app = HydrantHost.Build(
            ["--urls=http://127.0.0.1:0", $"--Hydrant:Data={data.Path}", "--Hydrant:Spool:HighWaterMark=10"],
            configureServices: services => services.AddSingleton<ISpoolConsumer>(consumer));
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var client = Api.Client(url);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000;
        string Batch(string prefix, int count) => string.Join('\n', Enumerable.Range(0, count).Select(i =>
            $$"""{"id":"{{prefix}}-{{i}}","timestamp":{{ts}},"eventType":"bp","sourceIP":"198.51.100.20"}"""));

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
}
