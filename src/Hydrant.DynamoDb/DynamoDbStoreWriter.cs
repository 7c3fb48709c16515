using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Hydrant.Analytics;
using Hydrant.Keys;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Logging;

namespace Hydrant.DynamoDb;

/// <summary>
/// The spool consumer that writes every accepted event to DynamoDB: its main item (which also
/// carries the source index's keys, for the GSI) and, while it is younger than the hot window, its
/// hot copy with a TTL. Writes are idempotent (an item is keyed by its event), so after a crash the
/// batch past the node's checkpoint is simply written again; the checkpoint is an item of the same
/// table, one per node, written after the batch.
/// </summary>
public sealed class DynamoDbStoreWriter : ISpoolConsumer
{
    private static readonly SpoolBatching WriterBatching = new(2_000, TimeSpan.FromMilliseconds(20));

    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDbOptions _options;
    private readonly StoreOptions _store;
    private readonly TimeProvider _time;
    private readonly BatchWriter _writer;
    private readonly ILogger<DynamoDbStoreWriter> _logger;
    private readonly string _node;

    public DynamoDbStoreWriter(IAmazonDynamoDB client, DynamoDbOptions options, StoreOptions store, string node, TimeProvider time, BatchWriter writer, ILogger<DynamoDbStoreWriter> logger)
    {
        _client = client;
        _options = options;
        _store = store;
        _node = node;
        _time = time;
        _writer = writer;
        _logger = logger;
    }

    public const string ConsumerName = "store";

    public string Name => ConsumerName;

    public SpoolBatching Batching => WriterBatching;

    public async ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken)
    {
        await DynamoDbTable.EnsureAsync(_client, _options.TableName, _logger, cancellationToken);
        var item = (await _client.GetItemAsync(new GetItemRequest
        {
            TableName = _options.TableName,
            Key = CheckpointKey(),
            ConsistentRead = true,
        }, cancellationToken)).Item;
        return item is not null && item.TryGetValue("position", out var position) ? long.Parse(position.N, CultureInfo.InvariantCulture) : 0;
    }

    public async ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken)
    {
        var hotCutoff = _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)StoreOptions.HotWindow.TotalMilliseconds;
        var requests = new List<WriteRequest>(entries.Count * 2);
        foreach (var entry in entries)
        {
            if (!entry.Json.IsEmpty)
            {
                AddItems(requests, AnalyticsLoader.RowOf(entry.Json), entry.Json, hotCutoff);
            }
        }
        await _writer.WriteAsync(_options.TableName, requests, cancellationToken);
        await _client.PutItemAsync(new PutItemRequest
        {
            TableName = _options.TableName,
            Item = new Dictionary<string, AttributeValue>(CheckpointKey())
            {
                ["position"] = new AttributeValue { N = (entries[^1].Sequence + 1).ToString(CultureInfo.InvariantCulture) },
            },
        }, cancellationToken);
    }

    private void AddItems(List<WriteRequest> requests, AnalyticsRow row, ReadOnlyMemory<byte> json, long hotCutoff)
    {
        var hash = SourceShard.Hash(row.SourceIP);
        var sortKey = EventKeys.SortKey(row.TimestampMs, row.EventType, row.Id);
        var text = System.Text.Encoding.UTF8.GetString(json.Span);
        var main = new Dictionary<string, AttributeValue>
        {
            [DynamoDbTable.PartitionKey] = new AttributeValue(EventKeys.MainPartition(row.TimestampMs, SourceShard.Main(hash))),
            [DynamoDbTable.SortKey] = new AttributeValue(sortKey),
            [DynamoDbTable.SourcePartitionKey] = new AttributeValue(EventKeys.SourcePartition(row.TimestampMs, row.SourceIP)),
            [DynamoDbTable.SourceSortKey] = new AttributeValue(sortKey),
            [DynamoDbTable.EventType] = new AttributeValue(row.EventType),
            [DynamoDbTable.Event] = new AttributeValue(text),
            // Retention by TTL where the endpoint has it: the month after the retention period has passed.
            [DynamoDbTable.Ttl] = Seconds(row.TimestampMs + (long)_store.Retention.TotalMilliseconds + (31L * 86_400_000)),
        };
        requests.Add(new WriteRequest(new PutRequest(main)));
        if (row.TimestampMs >= hotCutoff)
        {
            requests.Add(new WriteRequest(new PutRequest(new Dictionary<string, AttributeValue>
            {
                [DynamoDbTable.PartitionKey] = new AttributeValue(EventKeys.HotPartition(row.TimestampMs, SourceShard.Hot(hash))),
                [DynamoDbTable.SortKey] = new AttributeValue(sortKey),
                [DynamoDbTable.EventType] = new AttributeValue(row.EventType),
                [DynamoDbTable.Event] = new AttributeValue(text),
                [DynamoDbTable.Ttl] = Seconds(row.TimestampMs + (long)StoreOptions.HotWindow.TotalMilliseconds),
            })));
        }
    }

    private Dictionary<string, AttributeValue> CheckpointKey() => new()
    {
        [DynamoDbTable.PartitionKey] = new AttributeValue("node#" + _node),
        [DynamoDbTable.SortKey] = new AttributeValue("checkpoint#" + ConsumerName),
    };

    private static AttributeValue Seconds(long ms) => new() { N = (ms / 1000).ToString(CultureInfo.InvariantCulture) };
}
