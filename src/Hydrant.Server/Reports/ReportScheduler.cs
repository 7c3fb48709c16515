using Hydrant.Analytics;
using Hydrant.Reports;
using Hydrant.Server.Hosting;
using Hydrant.Spool;

namespace Hydrant.Server.Reports;

/// <summary>
/// Builds the daily reports nobody asked for: each day at <see cref="AnalyticsSettings.DailyReportAt"/>
/// (UTC), the day before; and at start-up and every <see cref="AnalyticsSettings.StaleReportCheck"/>
/// (ten minutes), every earlier day whose report is
/// missing or stale (events for it arrived after it was built: late ones, a backfill). A build
/// first waits for the analytics loader to reach what the spool held when the build was due, so a
/// report is not cut short by events still on their way in.
/// </summary>
public sealed class ReportScheduler(
    DailyReports reports,
    IAnalyticsStore analytics,
    ISpool spool,
    SpoolConsumerRunner runner,
    HydrantSettings settings,
    TimeProvider time,
    ILogger<ReportScheduler> logger) : BackgroundService
{
    private static readonly TimeSpan CatchUpDeadline = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan CatchUpPoll = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await BuildMissingOrStaleAsync(stoppingToken);
            var nextDaily = time.GetUtcNow() + UntilNext(time.GetUtcNow(), settings.Analytics.DailyReportAt);
            while (!stoppingToken.IsCancellationRequested)
            {
                var wait = nextDaily - time.GetUtcNow();
                var check = settings.Analytics.StaleReportCheck;
                await Task.Delay(wait < check ? (wait > TimeSpan.Zero ? wait : TimeSpan.Zero) : check, time, stoppingToken);
                if (time.GetUtcNow() >= nextDaily)
                {
                    await WaitForLoaderAsync(stoppingToken);
                    await BuildAsync(Today().AddDays(-1), "scheduled", stoppingToken);
                    nextDaily = time.GetUtcNow() + UntilNext(time.GetUtcNow(), settings.Analytics.DailyReportAt);
                }
                await BuildMissingOrStaleAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>How long from <paramref name="now"/> to the next <paramref name="at"/> (UTC), never zero.</summary>
    internal static TimeSpan UntilNext(DateTimeOffset now, TimeOnly at)
    {
        var next = new DateTimeOffset(DateOnly.FromDateTime(now.UtcDateTime).ToDateTime(at), TimeSpan.Zero);
        if (next <= now)
        {
            next = next.AddDays(1);
        }
        return next - now;
    }

    private DateOnly Today() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    private async Task BuildMissingOrStaleAsync(CancellationToken stoppingToken)
    {
        await WaitForLoaderAsync(stoppingToken);
        try
        {
            foreach (var day in await analytics.DaysToReportAsync(Today(), stoppingToken))
            {
                await BuildAsync(day, "missing, or events arrived after it was built", stoppingToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not look for days whose report is missing or stale; trying again in {Interval}", settings.Analytics.StaleReportCheck);
        }
    }

    private async Task BuildAsync(DateOnly day, string why, CancellationToken stoppingToken)
    {
        try
        {
            var report = await reports.BuildAsync(day, stoppingToken);
            logger.LogInformation("Daily report {Date} built ({Why}): {Events} events, {Alerts} alerts", report.Date, why, report.TotalEvents, report.Alerts.Total);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Daily report {Date} could not be built; POST /v1/reports/daily/{Date} retries it", DailyReport.DateText(day), DailyReport.DateText(day));
        }
    }

    private async Task WaitForLoaderAsync(CancellationToken stoppingToken)
    {
        var target = spool.NextSequence;
        var deadline = time.GetUtcNow() + CatchUpDeadline;
        while (runner.LagOf(AnalyticsLoader.ConsumerName) is { } lag && lag.Position < target)
        {
            if (time.GetUtcNow() > deadline)
            {
                logger.LogWarning("The analytics loader is still {Events} events behind after {Deadline}; building reports with what is loaded", target - lag.Position, CatchUpDeadline);
                return;
            }
            await Task.Delay(CatchUpPoll, time, stoppingToken);
        }
    }
}
