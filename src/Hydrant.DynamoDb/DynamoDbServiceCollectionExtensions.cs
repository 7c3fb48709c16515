using Amazon.DynamoDBv2;
using Hydrant.Detection.Alerts;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Hydrant.DynamoDb;

public static class DynamoDbServiceCollectionExtensions
{
    /// <summary>
    /// The event store on DynamoDB (Hydrant:Store:Kind=dynamodb): the store writer drains the
    /// node's spool into the table, and queries read the table; every node's alerts are shared
    /// there too (<see cref="DynamoDbAlertStore"/>). The spool itself stays local. The table and
    /// endpoint come from <paramref name="section"/> (Hydrant:DynamoDb: ServiceUrl, Region,
    /// TableName, MaxWritesInFlight).
    /// </summary>
    public static IServiceCollection AddHydrantDynamoDb(this IServiceCollection services, IConfigurationSection section)
    {
        var options = DynamoDbOptions.From(section);
        services.AddSingleton(options);
        services.AddSingleton<IAmazonDynamoDB>(_ => DynamoDbTable.CreateClient(options));
        services.AddSingleton(sp => new KeyWriteRates(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IKeyWriteRates>(sp => sp.GetRequiredService<KeyWriteRates>());
        services.AddSingleton(sp => new BatchWriter(sp.GetRequiredService<IAmazonDynamoDB>(), options.MaxWritesInFlight, sp.GetRequiredService<KeyWriteRates>()));
        services.AddSingleton<IEventStore>(sp => new DynamoDbEventStore(sp.GetRequiredService<IAmazonDynamoDB>(), options, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ISpoolConsumer>(sp => new DynamoDbStoreWriter(
            sp.GetRequiredService<IAmazonDynamoDB>(), options, sp.GetRequiredService<StoreOptions>(), NodeIdentity.Load(sp.GetRequiredService<StoreOptions>()),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<BatchWriter>(), sp.GetRequiredService<ILogger<DynamoDbStoreWriter>>()));
        services.AddSingleton<ISharedAlertStore>(sp => new DynamoDbAlertStore(
            sp.GetRequiredService<IAmazonDynamoDB>(), options, sp.GetRequiredService<BatchWriter>(), sp.GetRequiredService<ILogger<DynamoDbAlertStore>>()));
        services.AddSingleton<IAlertTriage>(sp => new DynamoDbAlertTriage(sp.GetRequiredService<IAmazonDynamoDB>(), options, sp.GetRequiredService<ILogger<DynamoDbAlertTriage>>()));
        services.AddSingleton<IIdClaims>(sp => new DynamoDbIdClaims(sp.GetRequiredService<IAmazonDynamoDB>(), options, sp.GetRequiredService<StoreOptions>(),
            NodeIdentity.Load(sp.GetRequiredService<StoreOptions>()), sp.GetRequiredService<ILogger<DynamoDbIdClaims>>()));
        services.AddHealthChecks().AddCheck<DynamoDbHealthCheck>("dynamodb");
        return services;
    }
}

/// <summary>
/// Readiness of DynamoDB. While it is down the spool keeps every accepted event for the store
/// writer (ingest answers 429 only once the spool is full), so it is degraded, not unhealthy.
/// </summary>
internal sealed class DynamoDbHealthCheck(IAmazonDynamoDB client, DynamoDbOptions options, BatchWriter writer) : IHealthCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["table"] = options.TableName, ["writesInFlightLimit"] = writer.Limit, ["throttles"] = writer.Throttles };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        try
        {
            var table = (await client.DescribeTableAsync(options.TableName, limit.Token)).Table;
            data["status"] = table.TableStatus.Value;
            return HealthCheckResult.Healthy("dynamodb answering", data);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded($"dynamodb not answering ({e.Message}); events wait in the spool", data: data);
        }
    }
}
