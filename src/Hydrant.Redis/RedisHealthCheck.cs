using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>
/// Readiness of Redis. Without it the node keeps detecting with the rules it has compiled, so it
/// is reported as degraded, not unhealthy.
/// </summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(Limit, cancellationToken);
            return HealthCheckResult.Healthy("redis answering", new Dictionary<string, object> { ["pingMs"] = Math.Round(latency.TotalMilliseconds, 2) });
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded($"redis not answering ({e.Message}); detection goes on with the rules in hand");
        }
    }
}
