using Hydrant.Analytics;
using Hydrant.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.Postgres;

public static class PostgresServiceCollectionExtensions
{
    /// <summary>The scale-out analytics store on PostgreSQL (Aurora): every node loads its own spool into the same tables.</summary>
    public static IServiceCollection AddHydrantPostgres(this IServiceCollection services, string connectionString) =>
        services.AddSingleton<IAnalyticsStore>(sp => new PostgresAnalyticsStore(connectionString, NodeIdentity.Load(sp.GetRequiredService<StoreOptions>())));
}
