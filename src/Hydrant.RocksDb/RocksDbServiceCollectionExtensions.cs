using Hydrant.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hydrant.RocksDb;

public static class RocksDbServiceCollectionExtensions
{
    /// <summary>
    /// The spool on RocksDB in the data folder, and (when <paramref name="asEventStore"/>) the
    /// embedded event store in the same database, written in the same batches as the spool.
    /// </summary>
    public static IServiceCollection AddHydrantRocksDb(this IServiceCollection services, bool asEventStore = true)
    {
        services.AddSingleton(sp => RocksDbEngine.Open(sp.GetRequiredService<StoreOptions>()));
        services.AddSingleton<IIngestLog>(sp => new RocksDbIngestLog(
            sp.GetRequiredService<RocksDbEngine>(),
            sp.GetRequiredService<StoreOptions>(),
            sp.GetRequiredService<IngestStats>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RocksDbIngestLog>>(),
            writeStoreKeys: asEventStore));
        if (asEventStore)
        {
            services.AddSingleton<IEventStore>(sp => new RocksDbEventStore(sp.GetRequiredService<RocksDbEngine>()));
        }
        return services;
    }
}
