using Hydrant.Detection.Alerts;

namespace Hydrant.Server.Alerts;

/// <summary>
/// Hands this node's alerts to the shared alert store: whenever the detector commits alerts, it
/// reads the alert store's outbox (the alerts changed, as they are now), puts them in the shared
/// store and acknowledges them. The outbox is written with the detector's commit, so an alert is
/// shared even when the node died right after raising it, or the shared store was down: it is put
/// again, by id, until that succeeds. Rounds that put something are 500 ms apart at least, so an alert
/// that grows with every batch costs one write per round.
/// </summary>
internal sealed class AlertSharing(IAlertStore local, ISharedAlertStore shared, AlertFeed feed, ILogger<AlertSharing> logger) : BackgroundService
{
    private const int AlertsPerPut = 500;
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private long _shared;

    /// <summary>Alerts (as versions: a growing alert counts again) put in the shared store since the start.</summary>
    public long Shared => Interlocked.Read(ref _shared);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Subscribed before the first read: a commit after that read wakes the loop.
        var committed = feed.Subscribe(stoppingToken);
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var put = false;
                for (var outbox = await local.ReadOutboxAsync(AlertsPerPut, stoppingToken); !outbox.IsEmpty; outbox = await local.ReadOutboxAsync(AlertsPerPut, stoppingToken))
                {
                    await shared.PutAsync(outbox.Alerts, stoppingToken);
                    await local.AcknowledgeOutboxAsync(outbox, stoppingToken);
                    Interlocked.Add(ref _shared, outbox.Alerts.Count);
                    put = true;
                }
                backoff = TimeSpan.FromMilliseconds(100);
                if (put)
                {
                    // At most one round a pace: an alert growing with every detector batch is put
                    // once per round, as it then is, not once per batch.
                    await Task.Delay(Pace, stoppingToken);
                }
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                idle.CancelAfter(Idle);
                await ((Task)committed.WaitToReadAsync(idle.Token).AsTask()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                while (committed.TryRead(out _))
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Sharing alerts failed; they stay in the outbox and are put again in {Backoff}", backoff);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}

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
