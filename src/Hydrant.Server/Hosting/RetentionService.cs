using Hydrant.Storage;

namespace Hydrant.Server.Hosting;

/// <summary>Drops expired hot days and months past retention, at start and then every hour.</summary>
internal sealed class RetentionService(IEventStore store, StoreOptions options, TimeProvider time, ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        do
        {
            try
            {
                var result = await store.ApplyRetentionAsync(time.GetUtcNow(), options.Retention, stoppingToken);
                if (result.DroppedHotDays.Count + result.DroppedMonths.Count > 0)
                {
                    logger.LogInformation("Retention dropped hot days {Days} and months {Months}", result.DroppedHotDays, result.DroppedMonths);
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
