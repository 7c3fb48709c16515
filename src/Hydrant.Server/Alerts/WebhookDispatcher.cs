using Hydrant.Detection.Alerts;
using Polly;
using Polly.Retry;

namespace Hydrant.Server.Alerts;

/// <summary>
/// Delivers alerts to the webhooks. It reads the live alert feed through its own bounded queue
/// (the oldest alerts drop when a webhook stays down for long, never the detector's progress),
/// and retries each delivery with jittered exponential backoff.
/// </summary>
internal sealed class WebhookDispatcher(AlertFeed feed, IReadOnlyList<WebhookSink> sinks, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private static readonly ResiliencePipeline Retry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TaskCanceledException>(),
            MaxRetryAttempts = 8,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(30),
        })
        .Build();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (sinks.Count == 0)
        {
            return;
        }
        var alerts = feed.Subscribe(stoppingToken);
        await foreach (var alert in alerts.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            foreach (var sink in sinks)
            {
                try
                {
                    await Retry.ExecuteAsync(async ct => await sink.SendAsync(alert, ct), stoppingToken);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(e, "Alert {Alert} could not be delivered to {Webhook}; giving up on it", alert.Id, sink.Url);
                }
            }
        }
    }
}
