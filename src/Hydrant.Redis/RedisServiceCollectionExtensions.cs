using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Storage;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hydrant.Redis;

public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Redis as the node's shared cache (Hydrant:Cache:Kind=redis): the API rules every node
    /// compiles, the correlation windows and alert owners every node counts in, the relay of alerts
    /// between nodes' streams, and its readiness (degraded, not down, without it). Every key and
    /// channel starts with <paramref name="prefix"/>, so deployments can share one Redis.
    /// </summary>
    public static IServiceCollection AddHydrantRedis(this IServiceCollection services, string configuration, string prefix, DetectionOptions detection)
    {
        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(configuration);
            // A node starts (and detects with the rules it has) while Redis is away.
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton<IRuleCache>(sp => new RedisRuleCache(sp.GetRequiredService<IConnectionMultiplexer>(), prefix));
        services.AddSingleton<ISharedDetectionState>(sp => new RedisDetectionState(
            sp.GetRequiredService<IConnectionMultiplexer>(), NodeIdentity.Load(sp.GetRequiredService<StoreOptions>()),
            detection.SuppressionWindow, detection.Correlation, prefix));
        services.AddSingleton<IAlertRelay>(sp => new RedisAlertRelay(
            sp.GetRequiredService<IConnectionMultiplexer>(), NodeIdentity.Load(sp.GetRequiredService<StoreOptions>()), prefix));
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis");
        return services;
    }
}
