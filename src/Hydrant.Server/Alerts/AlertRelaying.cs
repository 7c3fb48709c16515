using Hydrant.Detection.Alerts;

namespace Hydrant.Server.Alerts;

/// <summary>
/// Relays alerts between this node's live feed and the other nodes' (<see cref="IAlertRelay"/>):
/// what this node raises goes out, what the others raise comes in for the live stream.
/// </summary>
internal sealed class AlertRelaying(IAlertRelay relay, AlertFeed feed, ILogger<AlertRelaying> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var raised = feed.Subscribe(stoppingToken);
        await using var receiving = await ReceiveAsync(stoppingToken);
        await foreach (var alert in raised.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await relay.SendAsync(alert, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Live only: the shared alert store still lists it.
                logger.LogWarning(e, "Could not relay alert {Alert} to the other nodes' streams", alert.Id);
            }
        }
    }

    private async Task<IAsyncDisposable> ReceiveAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await relay.ReceiveAsync(feed.PublishRelayed, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Cannot receive other nodes' alerts yet; trying again in {Backoff}", backoff);
                await Task.Delay(backoff, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
