using Hydrant.Analytics;
using Hydrant.Detection.Alerts;
using Hydrant.Events;

namespace Hydrant.Reports;

/// <summary>
/// Builds and stores daily reports. The alert store is the truth about alerts, so a build first
/// copies the day's alerts into the analytics store (replacing what an earlier build copied), then
/// computes every figure there and stores the report.
/// </summary>
public sealed class DailyReports(IAnalyticsStore analytics, IAlertStore alerts)
{
    private const int AlertPage = 1000;

    public async ValueTask<DailyReport> BuildAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await analytics.ReplaceAlertsAsync(day, await AlertsFirstSeenOnAsync(day, cancellationToken), cancellationToken);
        var report = await analytics.AggregateDayAsync(day, cancellationToken);
        await analytics.SaveReportAsync(report, cancellationToken);
        return report;
    }

    public ValueTask<DailyReport?> LoadAsync(DateOnly day, CancellationToken cancellationToken) => analytics.LoadReportAsync(day, cancellationToken);

    public ValueTask<IReadOnlyList<StoredReport>> ListAsync(int limit, CancellationToken cancellationToken) => analytics.ListReportsAsync(limit, cancellationToken);

    /// <summary>An alert belongs to the day of its first event, so a report counts each alert once.</summary>
    private async Task<List<Alert>> AlertsFirstSeenOnAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var fromMs = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds();
        var toMs = fromMs + (long)TimeSpan.FromDays(1).TotalMilliseconds;
        var found = new List<Alert>();
        string? after = null;
        do
        {
            var page = await alerts.QueryAsync(new AlertQuery { FromMs = fromMs, ToMs = toMs, Limit = AlertPage, AfterId = after }, cancellationToken);
            found.AddRange(page.Alerts.Where(a => Timestamps.ParseCanonical(a.FirstSeen) >= fromMs));
            after = page.NextId;
        }
        while (after is not null);
        return found;
    }
}
