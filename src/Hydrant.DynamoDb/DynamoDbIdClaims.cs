using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Hydrant.Keys;
using Hydrant.Storage;
using Microsoft.Extensions.Logging;

namespace Hydrant.DynamoDb;

/// <summary>
/// Id claims as items of the events table: PK <c>ids#{yyyy-MM}#{XxHash3(id) % 100}</c> (the
/// event's month, spread over 100 keys so no key runs hot), SK the id, the claiming node, the
/// event's time, type and source (so the event is found again from its id alone) and a TTL past
/// retention. One conditional PutItem per id (the item is new, or already this node's),
/// many in flight: a failed condition is an id another node holds.
/// </summary>
internal sealed class DynamoDbIdClaims(IAmazonDynamoDB client, DynamoDbOptions options, StoreOptions store, string node, ILogger<DynamoDbIdClaims> logger) : IIdClaims
{
    public const int Shards = 100;
    private const int InFlight = 64;
    private const string Node = "node";
    public const string Timestamp = "ts";
    public const string Source = "src";
    private readonly TableOnce _table = new(client, options.TableName, logger);

    public TimeSpan RequestWait => options.ClaimWait;

    public async ValueTask<IReadOnlyList<bool>> ClaimAsync(IReadOnlyList<IdClaim> ids, CancellationToken cancellationToken)
    {
        await _table.EnsureAsync(cancellationToken);
        var held = new bool[ids.Count];
        var ttl = (long)(store.Retention + TimeSpan.FromDays(31)).TotalSeconds;
        await Parallel.ForAsync(0, ids.Count, new ParallelOptions { MaxDegreeOfParallelism = InFlight, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var (id, timestampMs, eventType, source) = ids[i];
            try
            {
                await client.PutItemAsync(new PutItemRequest
                {
                    TableName = options.TableName,
                    Item = new Dictionary<string, AttributeValue>
                    {
                        [DynamoDbTable.PartitionKey] = new(PartitionOf(id, timestampMs)),
                        [DynamoDbTable.SortKey] = new(id),
                        [Node] = new(node),
                        [Timestamp] = new() { N = timestampMs.ToString(CultureInfo.InvariantCulture) },
                        [DynamoDbTable.EventType] = new(eventType),
                        [Source] = new(source),
                        [DynamoDbTable.Ttl] = new() { N = (timestampMs / 1000 + ttl).ToString(CultureInfo.InvariantCulture) },
                    },
                    ConditionExpression = "attribute_not_exists(#pk) OR #node = :node",
                    ExpressionAttributeNames = new() { ["#pk"] = DynamoDbTable.PartitionKey, ["#node"] = Node },
                    ExpressionAttributeValues = new() { [":node"] = new(node) },
                }, ct);
                held[i] = true;
            }
            catch (ConditionalCheckFailedException)
            {
                held[i] = false;
            }
        });
        return held;
    }

    public static string PartitionOf(string id, long timestampMs) => PartitionOf(id, EventKeys.Month(timestampMs));

    public static string PartitionOf(string id, string month) =>
        string.Create(CultureInfo.InvariantCulture, $"ids#{month}#{XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(id)) % Shards}");
}
