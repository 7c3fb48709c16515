using Amazon;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Hydrant.DynamoDb;

/// <summary>Where the DynamoDB table is: an AWS region, or a local endpoint such as dynalite.</summary>
internal sealed record DynamoDbOptions
{
    /// <summary>The table and endpoint a configuration section (Hydrant:DynamoDb) names; the defaults for what it leaves out.</summary>
    public static DynamoDbOptions From(IConfiguration section)
    {
        var defaults = new DynamoDbOptions();
        return new()
        {
            ServiceUrl = section["ServiceUrl"] is { Length: > 0 } url ? url : null,
            Region = section["Region"] ?? defaults.Region,
            TableName = section["TableName"] ?? defaults.TableName,
            MaxWritesInFlight = section.GetValue("MaxWritesInFlight", defaults.MaxWritesInFlight),
            ClaimWait = TimeSpan.FromMilliseconds(section.GetValue("ClaimWaitMs", defaults.ClaimWait.TotalMilliseconds)),
        };
    }

    public string? ServiceUrl { get; init; }

    public string Region { get; init; } = "us-east-1";

    public string TableName { get; init; } = "hydrant-events";

    /// <summary>BatchWriteItem calls in flight at most; the writer halves this on throttling and climbs back after.</summary>
    public int MaxWritesInFlight { get; init; } = 8;

    /// <summary>How long an ingest request waits for its ids' claims before answering (Hydrant:DynamoDb:ClaimWaitMs).</summary>
    public TimeSpan ClaimWait { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The table's layout, and its provisioning: string PK and SK, on-demand capacity, the source index
/// as a global secondary index (spk, ssk), and TTL on <see cref="Ttl"/> where the endpoint has it.
/// </summary>
internal static class DynamoDbTable
{
    public const string PartitionKey = "PK";
    public const string SortKey = "SK";
    public const string Event = "event";
    public const string EventType = "etype";
    public const string Ttl = "ttl";
    public const string SourcePartitionKey = "spk";
    public const string SourceSortKey = "ssk";
    public const string SourceIndex = "source";

    /// <summary>The attribute and sort key of a hot key's spread record (<see cref="HotKeys"/>).</summary>
    public const string Spread = "n";
    public const string SpreadSortKey = "spread";

    /// <summary>
    /// A client from the standard AWS SDK chain (region, credentials). A local endpoint (ServiceUrl)
    /// with no credentials in the environment gets placeholder ones: emulators check the signature's
    /// shape, not the key.
    /// </summary>
    /// <summary>
    /// The items of these keys that exist, read consistently with BatchGetItem: 100 keys a call,
    /// unprocessed keys asked again until none are left.
    /// </summary>
    public static async Task<List<Dictionary<string, AttributeValue>>> BatchGetAsync(IAmazonDynamoDB client, string tableName, IEnumerable<Dictionary<string, AttributeValue>> keys, CancellationToken cancellationToken)
    {
        var found = new List<Dictionary<string, AttributeValue>>();
        foreach (var chunk in keys.Chunk(100))
        {
            var request = new Dictionary<string, KeysAndAttributes> { [tableName] = new KeysAndAttributes { Keys = [.. chunk], ConsistentRead = true } };
            while (request is { Count: > 0 })
            {
                var response = await client.BatchGetItemAsync(request, cancellationToken);
                if (response.Responses is not null && response.Responses.TryGetValue(tableName, out var items))
                {
                    found.AddRange(items);
                }
                request = response.UnprocessedKeys;
            }
        }
        return found;
    }

    public static AmazonDynamoDBClient CreateClient(DynamoDbOptions options)
    {
        var config = new AmazonDynamoDBConfig { RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region) };
        if (string.IsNullOrEmpty(options.ServiceUrl))
        {
            return new AmazonDynamoDBClient(config);
        }
        config.ServiceURL = options.ServiceUrl;
        config.AuthenticationRegion = options.Region;
        return Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 }
            ? new AmazonDynamoDBClient(config)
            : new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), config);
    }

    /// <summary>Creates the table if it is missing and waits until it is active; then turns TTL on where supported.</summary>
    public static async Task EnsureAsync(IAmazonDynamoDB client, string tableName, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await client.CreateTableAsync(new CreateTableRequest
            {
                TableName = tableName,
                BillingMode = BillingMode.PAY_PER_REQUEST,
                AttributeDefinitions =
                [
                    new AttributeDefinition(PartitionKey, ScalarAttributeType.S),
                    new AttributeDefinition(SortKey, ScalarAttributeType.S),
                    new AttributeDefinition(SourcePartitionKey, ScalarAttributeType.S),
                    new AttributeDefinition(SourceSortKey, ScalarAttributeType.S),
                ],
                KeySchema = [new KeySchemaElement(PartitionKey, KeyType.HASH), new KeySchemaElement(SortKey, KeyType.RANGE)],
                GlobalSecondaryIndexes =
                [
                    new GlobalSecondaryIndex
                    {
                        IndexName = SourceIndex,
                        KeySchema = [new KeySchemaElement(SourcePartitionKey, KeyType.HASH), new KeySchemaElement(SourceSortKey, KeyType.RANGE)],
                        Projection = new Projection { ProjectionType = ProjectionType.ALL },
                    },
                ],
            }, cancellationToken);
            logger.LogInformation("Created DynamoDB table {Table}", tableName);
        }
        catch (ResourceInUseException)
        {
            // It exists (or another node is creating it).
        }

        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var table = (await client.DescribeTableAsync(tableName, cancellationToken)).Table;
            if (table.TableStatus == TableStatus.ACTIVE && (table.GlobalSecondaryIndexes ?? []).All(i => i.IndexStatus == IndexStatus.ACTIVE))
            {
                break;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"DynamoDB table {tableName} is not active after 2 minutes");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        try
        {
            await client.UpdateTimeToLiveAsync(new UpdateTimeToLiveRequest
            {
                TableName = tableName,
                TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = Ttl, Enabled = true },
            }, cancellationToken);
        }
        catch (AmazonDynamoDBException e) when (e.ErrorCode is "UnknownOperationException" || e.Message.Contains("already enabled", StringComparison.OrdinalIgnoreCase))
        {
            // dynalite has no TTL: expired items stay, and readers hide them (hot items by their ttl,
            // main items by the retention the planner applies).
            logger.LogInformation("DynamoDB TTL not turned on for {Table}: {Reason}", tableName, e.Message);
        }
    }
}

/// <summary>Creates the table once for its owner (again after a failure); two owners racing both ask, which is harmless.</summary>
internal sealed class TableOnce(IAmazonDynamoDB client, string tableName, ILogger logger)
{
    private Task? _ensured;

    public Task EnsureAsync(CancellationToken cancellationToken)
    {
        var ensured = Volatile.Read(ref _ensured);
        if (ensured is null || ensured.IsFaulted || ensured.IsCanceled)
        {
            ensured = DynamoDbTable.EnsureAsync(client, tableName, logger, cancellationToken);
            Volatile.Write(ref _ensured, ensured);
        }
        return ensured;
    }
}
