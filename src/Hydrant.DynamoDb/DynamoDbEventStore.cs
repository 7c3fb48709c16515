using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Hydrant.Keys;
using Hydrant.Query;
using Hydrant.Storage;

namespace Hydrant.DynamoDb;

/// <summary>
/// Reads the DynamoDB table through the same plans as the embedded store: each partition is a
/// Query on its key (the source index through the GSI) with the time range as a sort-key
/// condition, newest first, paged with LastEvaluatedKey; the partitions of one time bucket are
/// merged newest first, and older buckets are asked only while the page is not full. Hot items
/// past their TTL are hidden here, since DynamoDB deletes expired items up to two days late (and
/// an emulator never).
/// </summary>
internal sealed class DynamoDbEventStore(IAmazonDynamoDB client, DynamoDbOptions options, TimeProvider time) : IEventStore
{
    private const int FirstReadsInFlight = 16;

    public async ValueTask<EventPage> QueryAsync(EventQuery query, QueryPlan plan, CancellationToken cancellationToken)
    {
        var upper = EventKeys.SortKeyBound(query.ToMs);
        if (query.AfterSortKey is not null && string.CompareOrdinal(query.AfterSortKey, upper) < 0)
        {
            upper = query.AfterSortKey;
        }
        var lower = EventKeys.SortKeyBound(query.FromMs);
        var events = new List<ReadOnlyMemory<byte>>(Math.Min(query.Limit, 1024));
        long itemsRead = 0;
        var partitionsRead = 0;
        string? lastReturned = null;
        var nowSeconds = time.GetUtcNow().ToUnixTimeSeconds();

        foreach (var group in plan.PartitionGroups)
        {
            var physical = await PhysicalKeysAsync(group, cancellationToken);
            var readers = physical.Select(p => new PartitionReader(client, Request(plan.Index, p, lower, upper, query, nowSeconds), plan.Index == PlanIndex.Source, upper)).ToList();
            partitionsRead += readers.Count;
            using (var first = new SemaphoreSlim(FirstReadsInFlight))
            {
                await Task.WhenAll(readers.Select(async r =>
                {
                    await first.WaitAsync(cancellationToken);
                    try
                    {
                        await r.FillAsync(cancellationToken);
                    }
                    finally
                    {
                        first.Release();
                    }
                }));
            }
            var heap = new PriorityQueue<PartitionReader, string>(NewestFirst.Instance);
            foreach (var reader in readers.Where(r => r.SortKey is not null))
            {
                heap.Enqueue(reader, reader.SortKey!);
            }
            while (heap.TryDequeue(out var reader, out var sortKey))
            {
                if (events.Count == query.Limit)
                {
                    return new EventPage(events, lastReturned, partitionsRead, itemsRead);
                }
                itemsRead++;
                events.Add(Encoding.UTF8.GetBytes(reader.Event));
                lastReturned = sortKey;
                if (await reader.MoveNextAsync(cancellationToken) is { } next)
                {
                    heap.Enqueue(reader, next);
                }
            }
        }
        return new EventPage(events, null, partitionsRead, itemsRead);
    }

    public async ValueTask<ReadOnlyMemory<byte>?> GetAsync(string id, long fromMs, long toMs, CancellationToken cancellationToken)
    {
        foreach (var months in EventKeys.MonthsNewestFirst(fromMs, toMs).Chunk(100))
        {
            // The id's claims (one per month at most) say the event's time, type and source: its main item's key.
            var claims = await DynamoDbTable.BatchGetAsync(client, options.TableName, months.Select(m => new Dictionary<string, AttributeValue>
            {
                [DynamoDbTable.PartitionKey] = new(DynamoDbIdClaims.PartitionOf(id, m)),
                [DynamoDbTable.SortKey] = new(id),
            }), cancellationToken);
            foreach (var claim in claims.Where(c => c.ContainsKey(DynamoDbIdClaims.Timestamp)).OrderByDescending(c => c[DynamoDbTable.PartitionKey].S, StringComparer.Ordinal))
            {
                var timestampMs = long.Parse(claim[DynamoDbIdClaims.Timestamp].N, CultureInfo.InvariantCulture);
                if (timestampMs < fromMs || timestampMs >= toMs)
                {
                    continue;
                }
                var partition = EventKeys.MainPartition(timestampMs, SourceShard.Main(SourceShard.Hash(claim[DynamoDbIdClaims.Source].S)));
                var sortKey = EventKeys.SortKey(timestampMs, claim[DynamoDbTable.EventType].S, id);
                foreach (var physical in await PhysicalKeysAsync([partition], cancellationToken))
                {
                    var item = await client.GetItemAsync(new GetItemRequest
                    {
                        TableName = options.TableName,
                        Key = new() { [DynamoDbTable.PartitionKey] = new(physical), [DynamoDbTable.SortKey] = new(sortKey) },
                        ConsistentRead = true,
                    }, cancellationToken);
                    if (item.Item is { Count: > 0 } found && found.TryGetValue(DynamoDbTable.Event, out var json))
                    {
                        return Encoding.UTF8.GetBytes(json.S);
                    }
                }
            }
        }
        return null;
    }

    /// <summary>Nothing to drop: items carry a TTL (main items a month past retention), and the planner never reads past retention.</summary>
    public ValueTask<RetentionResult> ApplyRetentionAsync(DateTimeOffset now, TimeSpan retention, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new RetentionResult([], []));

    /// <summary>Each partition of the plan and the physical keys a hot one was spread over (<see cref="HotKeys"/>).</summary>
    private async Task<List<string>> PhysicalKeysAsync(IReadOnlyList<string> partitions, CancellationToken cancellationToken)
    {
        var records = await DynamoDbTable.BatchGetAsync(client, options.TableName, partitions.Select(p => new Dictionary<string, AttributeValue>
        {
            [DynamoDbTable.PartitionKey] = new AttributeValue(HotKeys.SpreadRecordKey(p)),
            [DynamoDbTable.SortKey] = new AttributeValue(DynamoDbTable.SpreadSortKey),
        }), cancellationToken);
        var spreads = records.ToDictionary(
            item => item[DynamoDbTable.PartitionKey].S[HotKeys.SpreadRecordKey(string.Empty).Length..],
            item => int.Parse(item[DynamoDbTable.Spread].N, CultureInfo.InvariantCulture),
            StringComparer.Ordinal);
        var keys = new List<string>(partitions.Count);
        foreach (var partition in partitions)
        {
            var spread = spreads.GetValueOrDefault(partition, 1);
            for (var i = 0; i < spread; i++)
            {
                keys.Add(HotKeys.Physical(partition, i));
            }
        }
        return keys;
    }

    private QueryRequest Request(PlanIndex index, string partition, string lower, string upper, EventQuery query, long nowSeconds)
    {
        var bySource = index == PlanIndex.Source;
        var request = new QueryRequest
        {
            TableName = options.TableName,
            IndexName = bySource ? DynamoDbTable.SourceIndex : null,
            KeyConditionExpression = "#pk = :pk AND #sk BETWEEN :lo AND :hi",
            ExpressionAttributeNames = new Dictionary<string, string>
            {
                ["#pk"] = bySource ? DynamoDbTable.SourcePartitionKey : DynamoDbTable.PartitionKey,
                ["#sk"] = bySource ? DynamoDbTable.SourceSortKey : DynamoDbTable.SortKey,
            },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue>
            {
                [":pk"] = new AttributeValue(partition),
                [":lo"] = new AttributeValue(lower),
                [":hi"] = new AttributeValue(upper),
            },
            ScanIndexForward = false,
            Limit = Math.Min(query.Limit + 1, 1000),
        };
        var filters = new List<string>();
        if (index == PlanIndex.Hot)
        {
            filters.Add("#ttl > :now");
            request.ExpressionAttributeNames["#ttl"] = DynamoDbTable.Ttl;
            request.ExpressionAttributeValues[":now"] = new AttributeValue { N = nowSeconds.ToString(CultureInfo.InvariantCulture) };
        }
        if (query.EventType is not null)
        {
            filters.Add("#type = :type");
            request.ExpressionAttributeNames["#type"] = DynamoDbTable.EventType;
            request.ExpressionAttributeValues[":type"] = new AttributeValue(query.EventType);
        }
        if (filters.Count > 0)
        {
            request.FilterExpression = string.Join(" AND ", filters);
        }
        return request;
    }

    private sealed class NewestFirst : IComparer<string>
    {
        public static readonly NewestFirst Instance = new();

        public int Compare(string? x, string? y) => string.CompareOrdinal(y, x);
    }

    /// <summary>One partition's items, newest first, a Query page at a time.</summary>
    private sealed class PartitionReader(IAmazonDynamoDB client, QueryRequest request, bool bySource, string upper)
    {
        private readonly Queue<Dictionary<string, AttributeValue>> _items = new();
        private bool _done;

        public string? SortKey => _items.TryPeek(out var item) ? item[bySource ? DynamoDbTable.SourceSortKey : DynamoDbTable.SortKey].S : null;

        public string Event => _items.Peek()[DynamoDbTable.Event].S;

        public async Task FillAsync(CancellationToken cancellationToken)
        {
            while (_items.Count == 0 && !_done)
            {
                var response = await client.QueryAsync(request, cancellationToken);
                foreach (var item in response.Items ?? [])
                {
                    // BETWEEN includes its upper bound; the range is [from, to) and a cursor is exclusive.
                    var key = item[bySource ? DynamoDbTable.SourceSortKey : DynamoDbTable.SortKey].S;
                    if (string.CompareOrdinal(key, upper) < 0)
                    {
                        _items.Enqueue(item);
                    }
                }
                request.ExclusiveStartKey = response.LastEvaluatedKey;
                _done = response.LastEvaluatedKey is not { Count: > 0 };
            }
        }

        public async Task<string?> MoveNextAsync(CancellationToken cancellationToken)
        {
            _items.Dequeue();
            await FillAsync(cancellationToken);
            return SortKey;
        }
    }
}
