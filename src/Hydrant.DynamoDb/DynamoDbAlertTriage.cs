using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Hydrant.Detection.Alerts;
using Microsoft.Extensions.Logging;

namespace Hydrant.DynamoDb;

/// <summary>
/// Alert triage shared by every node, in the events table: PK <c>triage#{XxHash3(id) % 100}</c>,
/// SK the alert id, the state as JSON and its version. A change is a conditional put on the
/// version read, so two analysts changing one alert on two nodes cannot both win: the second is
/// read again (or, when the client sent a version, answered as a conflict). Closing also adds one
/// to the closed epoch item, which detectors read each batch.
/// </summary>
internal sealed class DynamoDbAlertTriage(IAmazonDynamoDB client, DynamoDbOptions options, ILogger<DynamoDbAlertTriage> logger) : IAlertTriage
{
    private const int Shards = 100;
    private const int Attempts = 8;
    private const string State = "state";
    private const string VersionAttribute = "v";
    private const string EpochAttribute = "n";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly TableOnce _table = new(client, options.TableName, logger);

    public async ValueTask<IReadOnlyDictionary<string, AlertTriageState>> GetAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken)
    {
        await _table.EnsureAsync(cancellationToken);
        var items = await DynamoDbTable.BatchGetAsync(client, options.TableName, alertIds.Distinct(StringComparer.Ordinal).Select(Key), cancellationToken);
        return items.ToDictionary(item => item[DynamoDbTable.SortKey].S, item => JsonSerializer.Deserialize<AlertTriageState>(item[State].S, Json)!, StringComparer.Ordinal);
    }

    public async ValueTask<TriageResult> ChangeAsync(string alertId, long? expectedVersion, AlertChange change, CancellationToken cancellationToken)
    {
        await _table.EnsureAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            var current = (await GetAsync([alertId], cancellationToken)).GetValueOrDefault(alertId) ?? AlertTriageState.New;
            if (expectedVersion is { } expected && expected != current.Version)
            {
                return new TriageResult(current, Conflict: true);
            }
            if (current.Refusal(change) is { } refusal)
            {
                return new TriageResult(current, Conflict: false, refusal);
            }
            var next = current.Apply(change);
            var item = Key(alertId);
            item[State] = new AttributeValue(JsonSerializer.Serialize(next, Json));
            item[VersionAttribute] = new AttributeValue { N = next.Version.ToString(CultureInfo.InvariantCulture) };
            try
            {
                await client.PutItemAsync(new PutItemRequest
                {
                    TableName = options.TableName,
                    Item = item,
                    ConditionExpression = current.Version == 0 ? "attribute_not_exists(#pk)" : "#v = :v",
                    ExpressionAttributeNames = current.Version == 0 ? new() { ["#pk"] = DynamoDbTable.PartitionKey } : new() { ["#v"] = VersionAttribute },
                    ExpressionAttributeValues = current.Version == 0 ? null : new() { [":v"] = new AttributeValue { N = current.Version.ToString(CultureInfo.InvariantCulture) } },
                }, cancellationToken);
            }
            catch (ConditionalCheckFailedException) when (attempt < Attempts)
            {
                continue; // another node changed it between the read and the write: read it again
            }
            if (next.Status == AlertStatus.Closed && current.Status != AlertStatus.Closed)
            {
                await client.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = options.TableName,
                    Key = EpochKey(),
                    UpdateExpression = "ADD #n :one",
                    ExpressionAttributeNames = new() { ["#n"] = EpochAttribute },
                    ExpressionAttributeValues = new() { [":one"] = new AttributeValue { N = "1" } },
                }, cancellationToken);
            }
            return new TriageResult(next, Conflict: false);
        }
    }

    public async ValueTask<long> ClosedEpochAsync(CancellationToken cancellationToken)
    {
        await _table.EnsureAsync(cancellationToken);
        var item = (await client.GetItemAsync(new GetItemRequest { TableName = options.TableName, Key = EpochKey(), ConsistentRead = true }, cancellationToken)).Item;
        return item is not null && item.TryGetValue(EpochAttribute, out var n) ? long.Parse(n.N, CultureInfo.InvariantCulture) : 0;
    }

    private static Dictionary<string, AttributeValue> Key(string alertId) => new()
    {
        [DynamoDbTable.PartitionKey] = new AttributeValue(string.Create(CultureInfo.InvariantCulture, $"triage#{XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(alertId)) % Shards}")),
        [DynamoDbTable.SortKey] = new AttributeValue(alertId),
    };

    private static Dictionary<string, AttributeValue> EpochKey() => new()
    {
        [DynamoDbTable.PartitionKey] = new AttributeValue("triage-closed-epoch"),
        [DynamoDbTable.SortKey] = new AttributeValue("epoch"),
    };
}
