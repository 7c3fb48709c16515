using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hydrant.Server.Hosting;

/// <summary>Readiness of the spool and event store: the spool answers and is below its high-water mark.</summary>
internal sealed class SpoolHealthCheck(ISpool spool, StoreOptions store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var depth = spool.Depth;
        var data = new Dictionary<string, object> { ["depth"] = depth, ["highWaterMark"] = store.SpoolHighWaterMark };
        return Task.FromResult(depth < store.SpoolHighWaterMark
            ? HealthCheckResult.Healthy("spool accepting", data)
            : HealthCheckResult.Degraded("spool at its high-water mark: ingest answers 429", data: data));
    }
}
