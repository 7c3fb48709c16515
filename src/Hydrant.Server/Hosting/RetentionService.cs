using Hydrant.Analytics;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Server.Hosting;

/// <summary>
/// Drops expired hot days and months past retention from the event store, and the analytics
/// store's days past retention, at start and then every hour.
/// </summary>
internal sealed class RetentionService(IEventStore store, ISpool spool, IAnalyticsStore analytics, StoreOptions options, TimeProvider time, ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        do
        {
            try
            {
                var result = await store.ApplyRetentionAsync(time.GetUtcNow(), options.Retention, stoppingToken);
                spool.ForgetIdsBefore(time.GetUtcNow() - options.Retention);
                if (result.DroppedHotDays.Count + result.DroppedMonths.Count > 0)
                {
                    logger.LogInformation("Retention dropped hot days {Days} and months {Months}", result.DroppedHotDays, result.DroppedMonths);
                }
                var oldestKept = DateOnly.FromDateTime((time.GetUtcNow() - options.Retention).UtcDateTime);
                if (await analytics.DropDaysBeforeAsync(oldestKept, stoppingToken) is > 0 and var days)
                {
                    logger.LogInformation("Retention dropped {Days} days of analytics before {Day}", days, oldestKept);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Retention pass failed; it runs again in an hour");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
