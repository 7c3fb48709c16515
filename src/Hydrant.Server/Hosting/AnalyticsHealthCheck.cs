using Hydrant.Analytics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hydrant.Server.Hosting;

/// <summary>
/// Readiness of the analytics store. Its being down does not stop ingest (the spool keeps the
/// events for the loader), so it is reported as degraded, not unhealthy.
/// </summary>
internal sealed class AnalyticsHealthCheck(IAnalyticsStore analytics, AnalyticsSettings settings) : IHealthCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["kind"] = settings.Kind };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        try
        {
            data["position"] = await analytics.LoadCheckpointAsync(limit.Token);
            return HealthCheckResult.Healthy("analytics store answering", data);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded($"analytics store not answering ({e.Message}); events wait in the spool", data: data);
        }
    }
}
