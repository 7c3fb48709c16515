using Hydrant.Analytics;
using Hydrant.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.DuckDb;

public static class DuckDbServiceCollectionExtensions
{
    /// <summary>The embedded analytics store: one DuckDB file in the data folder, its memory capped at <paramref name="memoryLimitMB"/>.</summary>
    public static IServiceCollection AddHydrantDuckDb(this IServiceCollection services, int memoryLimitMB) =>
        services.AddSingleton<IAnalyticsStore>(sp => new DuckDbAnalyticsStore(sp.GetRequiredService<StoreOptions>(), memoryLimitMB));
}
