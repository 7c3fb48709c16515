using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Hydrant.Events;
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
internal sealed class DynamoDbStoreWriter : ISpoolConsumer
{
    private static readonly SpoolBatching WriterBatching = new(2_000, TimeSpan.FromMilliseconds(20));

    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDbOptions _options;
    private readonly StoreOptions _store;
    private readonly TimeProvider _time;
    private readonly BatchWriter _writer;
    private readonly ILogger<DynamoDbStoreWriter> _logger;
    private readonly string _node;
    private readonly HotKeys _hotKeys = new();
    private readonly HashSet<string> _widened = new(StringComparer.Ordinal);

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
        var now = _time.GetUtcNow();
        var hotCutoff = now.ToUnixTimeMilliseconds() - (long)StoreOptions.HotWindow.TotalMilliseconds;
        var second = now.ToUnixTimeSeconds();
        var requests = new List<WriteRequest>(entries.Count * 2);
        _widened.Clear();
        foreach (var entry in entries)
        {
            if (!entry.Json.IsEmpty)
            {
                AddItems(requests, EnvelopeOf(entry), entry.Json, hotCutoff, second);
            }
        }
        // Readers learn of new physical keys before any item is written to them.
        foreach (var key in _widened)
        {
            await RecordSpreadAsync(key, cancellationToken);
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

    /// <summary>DynamoDB refuses an item it cannot keep (too large, an empty key) with a validation error, the whole call with it.</summary>
    public bool IsCausedByEntries(Exception failure) =>
        failure is SpoolEntryException or AmazonDynamoDBException { ErrorCode: "ValidationException" };

    /// <summary>
    /// The entry's envelope. The event is kept as text: bytes that are not UTF-8 (which an older
    /// build accepted) would be kept as a lossy copy, so that entry is named, to be set aside.
    /// </summary>
    private static EventEnvelope EnvelopeOf(SpoolEntry entry)
    {
        try
        {
            return System.Text.Unicode.Utf8.IsValid(entry.Json.Span) ? entry.ReadEnvelope() : throw new FormatException("bytes that are not UTF-8");
        }
        catch (Exception e)
        {
            // Reading one event touches nothing but its bytes: whatever fails, fails for this event.
            throw new SpoolEntryException(entry.Sequence, "the event cannot be stored: " + e.Message, e);
        }
    }

    private void AddItems(List<WriteRequest> requests, EventEnvelope envelope, ReadOnlyMemory<byte> json, long hotCutoff, long second)
    {
        var hash = SourceShard.Hash(envelope.SourceIP);
        var sortKey = EventKeys.SortKey(envelope.TimestampMs, envelope.EventType, envelope.Id);
        var text = System.Text.Encoding.UTF8.GetString(json.Span);
        // Both items are about this big; their keys differ by a few bytes.
        var units = HotKeys.UnitsOf(json.Length + (2 * sortKey.Length) + 160);
        var main = new Dictionary<string, AttributeValue>
        {
            [DynamoDbTable.PartitionKey] = new AttributeValue(_hotKeys.Place(EventKeys.MainPartition(envelope.TimestampMs, SourceShard.Main(hash)), envelope.Id, units, second, _widened)),
            [DynamoDbTable.SortKey] = new AttributeValue(sortKey),
            [DynamoDbTable.SourcePartitionKey] = new AttributeValue(_hotKeys.Place(EventKeys.SourcePartition(envelope.TimestampMs, envelope.SourceIP), envelope.Id, units, second, _widened)),
            [DynamoDbTable.SourceSortKey] = new AttributeValue(sortKey),
            [DynamoDbTable.EventType] = new AttributeValue(envelope.EventType),
            [DynamoDbTable.Event] = new AttributeValue(text),
            // Retention by TTL where the endpoint has it: the month after the retention period has passed.
            [DynamoDbTable.Ttl] = Seconds(envelope.TimestampMs + (long)_store.Retention.TotalMilliseconds + (31L * 86_400_000)),
        };
        requests.Add(new WriteRequest(new PutRequest(main)));
        if (envelope.TimestampMs >= hotCutoff)
        {
            requests.Add(new WriteRequest(new PutRequest(new Dictionary<string, AttributeValue>
            {
                [DynamoDbTable.PartitionKey] = new AttributeValue(_hotKeys.Place(EventKeys.HotPartition(envelope.TimestampMs, SourceShard.Hot(hash)), envelope.Id, units, second, _widened)),
                [DynamoDbTable.SortKey] = new AttributeValue(sortKey),
                [DynamoDbTable.EventType] = new AttributeValue(envelope.EventType),
                [DynamoDbTable.Event] = new AttributeValue(text),
                [DynamoDbTable.Ttl] = Seconds(envelope.TimestampMs + (long)StoreOptions.HotWindow.TotalMilliseconds),
            })));
        }
    }

    /// <summary>Raises the recorded spread of a logical key to this writer's, never lowering what another node recorded.</summary>
    private async Task RecordSpreadAsync(string logicalKey, CancellationToken cancellationToken)
    {
        var spread = _hotKeys.SpreadOf(logicalKey);
        try
        {
            await _client.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = _options.TableName,
                Key = new Dictionary<string, AttributeValue>
                {
                    [DynamoDbTable.PartitionKey] = new AttributeValue(HotKeys.SpreadRecordKey(logicalKey)),
                    [DynamoDbTable.SortKey] = new AttributeValue(DynamoDbTable.SpreadSortKey),
                },
                UpdateExpression = "SET #n = :n",
                ConditionExpression = "attribute_not_exists(#n) OR #n < :n",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#n"] = DynamoDbTable.Spread },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":n"] = new AttributeValue { N = spread.ToString(CultureInfo.InvariantCulture) } },
            }, cancellationToken);
            _logger.LogInformation("Hot partition key {Key} spread over {Spread} keys", logicalKey, spread);
        }
        catch (ConditionalCheckFailedException)
        {
            // Another node (or an earlier run) spread it at least as wide: nothing to record.
        }
    }

    private Dictionary<string, AttributeValue> CheckpointKey() => new()
    {
        [DynamoDbTable.PartitionKey] = new AttributeValue("node#" + _node),
        [DynamoDbTable.SortKey] = new AttributeValue("checkpoint#" + ConsumerName),
    };

    private static AttributeValue Seconds(long ms) => new() { N = (ms / 1000).ToString(CultureInfo.InvariantCulture) };
}
