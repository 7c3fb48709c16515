using Hydrant.Detection.Alerts;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Hydrant.RocksDb;

public static class RocksDbServiceCollectionExtensions
{
    /// <summary>
    /// The spool and the alert store on RocksDB in the data folder, and (when
    /// <paramref name="asEventStore"/>) the embedded event store in the same database, written in
    /// the same batches as the spool. The alert store keeps an outbox of changed alerts for the
    /// shared alert store (<paramref name="shareAlerts"/>) and the analytics store
    /// (<paramref name="alertsToAnalytics"/>).
    /// </summary>
    /// <para><paramref name="section"/>: RocksDB's own settings (Hydrant:RocksDb: BlockCacheMB, WriteBufferMB), its defaults when not given.</para>
    public static IServiceCollection AddHydrantRocksDb(this IServiceCollection services, IConfigurationSection? section = null, bool asEventStore = true, bool shareAlerts = false, bool alertsToAnalytics = false)
    {
        var tuning = RocksDbOptions.From(section);
        services.TryAddSingleton<StorageWrites>();
        services.AddSingleton(sp => RocksDbEngine.Open(sp.GetRequiredService<StoreOptions>(), tuning, sp.GetRequiredService<StorageWrites>()));
        // With a shared store (DynamoDB) ids are claimed across nodes before consumers see them.
        services.AddSingleton<ISpool>(sp => new RocksDbSpool(
            sp.GetRequiredService<RocksDbEngine>(),
            sp.GetRequiredService<IngestStats>(),
            sp.GetRequiredService<TimeProvider>(),
            writeStoreKeys: asEventStore,
            claims: asEventStore ? null : sp.GetService<IIdClaims>(),
            logger: sp.GetRequiredService<ILoggerFactory>().CreateLogger<RocksDbSpool>()));
        services.AddSingleton<Hydrant.Spool.IDeadLetterStore>(sp => new RocksDbDeadLetters(sp.GetRequiredService<RocksDbEngine>()));
        services.AddSingleton<Hydrant.Detection.Alerts.IAlertStore>(sp => new RocksDbAlertStore(sp.GetRequiredService<RocksDbEngine>(),
            [.. shareAlerts ? [AlertOutboxReaders.Shared] : Array.Empty<string>(), .. alertsToAnalytics ? [AlertOutboxReaders.Analytics] : Array.Empty<string>()]));
        if (!shareAlerts)
        {
            // The node's alerts are its own, so is their triage; shared alerts are triaged where they are shared.
            services.AddSingleton<Hydrant.Detection.Alerts.IAlertTriage>(sp => new RocksDbAlertTriage(sp.GetRequiredService<RocksDbEngine>()));
        }
        if (asEventStore)
        {
            services.AddSingleton<IEventStore>(sp => new RocksDbEventStore(sp.GetRequiredService<RocksDbEngine>()));
        }
        return services;
    }

    /// <summary>API rules and intel lists kept in this node's RocksDB (Hydrant:Cache:Kind=memory): one node, nothing shared.</summary>
    public static IServiceCollection AddRocksDbRuleCache(this IServiceCollection services) => services
        .AddSingleton<Hydrant.Detection.IRuleCache>(sp => new RocksDbRuleCache(sp.GetRequiredService<RocksDbEngine>()))
        .AddSingleton<Hydrant.Enrichment.Intel.IIntelListCache>(sp => new RocksDbIntelListCache(sp.GetRequiredService<RocksDbEngine>()));
}
