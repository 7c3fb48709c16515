using Hydrant.Analytics;
using Hydrant.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.Postgres;

public static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// The scale-out analytics store on PostgreSQL (Aurora): every node loads its own spool into the
    /// same tables; the Npgsql connection string is <paramref name="section"/>'s (Hydrant:Postgres) <c>ConnectionString</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The section sets no connection string.</exception>
    public static IServiceCollection AddHydrantPostgres(this IServiceCollection services, IConfigurationSection section)
    {
        var connectionString = section["ConnectionString"] is { Length: > 0 } set ? set : throw new InvalidOperationException($"{section.Path}:ConnectionString is not set");
        return services.AddSingleton<IAnalyticsStore>(sp => new PostgresAnalyticsStore(connectionString, NodeIdentity.Load(sp.GetRequiredService<StoreOptions>())));
    }
}
