using Hydrant.Analytics;
using Hydrant.Detection.Alerts;

namespace Hydrant.Server.Alerts;

/// <summary>
/// Hands this node's committed alerts on, from the alert store's outbox: whenever the detector
/// commits alerts, it reads what its reader has not taken (the alerts changed, as they are now),
/// hands them on and acknowledges them. The outbox is written with the detector's commit, so an
/// alert is handed on even when the node died right after raising it, or the destination was
/// down: it is handed on again, by id, until that succeeds. Rounds that hand something on are
/// 500 ms apart at least, so an alert that grows with every batch costs one write per round.
/// </summary>
internal abstract class AlertOutboxPump(string reader, IAlertStore local, AlertFeed feed, ILogger logger) : BackgroundService
{
    private const int AlertsPerRound = 500;
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private long _handedOn;

    /// <summary>Alerts (as versions: a growing alert counts again) handed on since the start.</summary>
    public long HandedOn => Interlocked.Read(ref _handedOn);

    /// <summary>Stores the alerts where they go, replacing earlier versions by id.</summary>
    protected abstract ValueTask HandOnAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Subscribed before the first read: a commit after that read wakes the loop.
        var committed = feed.Subscribe(stoppingToken);
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var handed = false;
                for (var outbox = await local.ReadOutboxAsync(reader, AlertsPerRound, stoppingToken); !outbox.IsEmpty; outbox = await local.ReadOutboxAsync(reader, AlertsPerRound, stoppingToken))
                {
                    await HandOnAsync(outbox.Alerts, stoppingToken);
                    await local.AcknowledgeOutboxAsync(reader, outbox, stoppingToken);
                    Interlocked.Add(ref _handedOn, outbox.Alerts.Count);
                    handed = true;
                }
                backoff = TimeSpan.FromMilliseconds(100);
                if (handed)
                {
                    // At most one round a pace: an alert growing with every detector batch is
                    // handed on once per round, as it then is, not once per batch.
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
                logger.LogWarning(e, "Handing alerts on to the {Reader} store failed; they stay in the outbox and are handed on again in {Backoff}", reader, backoff);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}

/// <summary>This node's alerts into the shared alert store, where every node lists them (scale-out).</summary>
internal sealed class AlertSharing(IAlertStore local, ISharedAlertStore shared, AlertFeed feed, ILogger<AlertSharing> logger)
    : AlertOutboxPump(AlertOutboxReaders.Shared, local, feed, logger)
{
    protected override ValueTask HandOnAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) => shared.PutAsync([.. alerts], cancellationToken);
}

/// <summary>This node's alerts into the analytics store as they are committed, for SQL and reports.</summary>
internal sealed class AlertAnalytics(IAlertStore local, IAnalyticsStore analytics, AlertFeed feed, ILogger<AlertAnalytics> logger)
    : AlertOutboxPump(AlertOutboxReaders.Analytics, local, feed, logger)
{
    protected override ValueTask HandOnAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) => analytics.UpsertAlertsAsync(alerts, cancellationToken);
}
