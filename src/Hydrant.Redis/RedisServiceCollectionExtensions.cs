using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hydrant.Redis;

public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Redis as the node's shared cache (Hydrant:Cache:Kind=redis): the API rules every node
    /// compiles, the correlation windows and alert owners every node counts in, the relay of alerts
    /// between nodes' streams, and its readiness (degraded, not down, without it). From
    /// <paramref name="section"/> (Hydrant:Redis): <c>Configuration</c>, StackExchange.Redis's
    /// configuration string (required), and <c>Prefix</c> (default <c>hydrant:</c>), put before
    /// every key and channel so deployments can share one Redis.
    /// </summary>
    /// <exception cref="InvalidOperationException">The section sets no configuration string.</exception>
    public static IServiceCollection AddHydrantRedis(this IServiceCollection services, IConfigurationSection section, DetectionOptions detection)
    {
        var configuration = section["Configuration"] is { Length: > 0 } set ? set : throw new InvalidOperationException($"{section.Path}:Configuration is not set");
        var prefix = section["Prefix"] ?? "hydrant:";
        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(configuration);
            // A node starts (and detects with the rules it has) while Redis is away.
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton<IRuleCache>(sp => new RedisRuleCache(sp.GetRequiredService<IConnectionMultiplexer>(), prefix));
        services.AddSingleton<Hydrant.Enrichment.Intel.IIntelListCache>(sp => new RedisIntelListCache(sp.GetRequiredService<IConnectionMultiplexer>(), prefix));
        services.AddSingleton<ISharedDetectionState>(sp => new RedisDetectionState(
            sp.GetRequiredService<IConnectionMultiplexer>(), NodeIdentity.Load(sp.GetRequiredService<StoreOptions>()),
            detection.SuppressionWindow, detection.Correlation, prefix));
        services.AddSingleton<IAlertRelay>(sp => new RedisAlertRelay(
            sp.GetRequiredService<IConnectionMultiplexer>(), NodeIdentity.Load(sp.GetRequiredService<StoreOptions>()), prefix));
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis");
        return services;
    }
}
