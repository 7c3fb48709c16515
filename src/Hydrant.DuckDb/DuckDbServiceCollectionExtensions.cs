using Hydrant.Analytics;
using Hydrant.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.DuckDb;

public static class DuckDbServiceCollectionExtensions
{
    /// <summary>
    /// The embedded analytics store: one DuckDB file in the data folder, its memory capped at
    /// <paramref name="section"/>'s (Hydrant:Analytics) <c>MemoryLimitMB</c> (default 512).
    /// </summary>
    /// <exception cref="InvalidOperationException">The limit is under 16 MB.</exception>
    public static IServiceCollection AddHydrantDuckDb(this IServiceCollection services, IConfigurationSection section)
    {
        var memoryLimitMB = section.GetValue("MemoryLimitMB", 512);
        if (memoryLimitMB < 16)
        {
            throw new InvalidOperationException($"{section.Path}:MemoryLimitMB must be 16 or more");
        }
        return services.AddSingleton<IAnalyticsStore>(sp => new DuckDbAnalyticsStore(sp.GetRequiredService<StoreOptions>(), memoryLimitMB));
    }
}
