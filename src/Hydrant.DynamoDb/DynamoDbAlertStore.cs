using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Hydrant.Detection.Alerts;
using Hydrant.Events;
using Microsoft.Extensions.Logging;

namespace Hydrant.DynamoDb;

/// <summary>
/// Every node's alerts in the events table, so any node lists them all. An alert is one item:
/// <c>PK = alerts#{yyyy-MM}#{n}</c>, the month its id (a ULID) was made in and
/// <c>n = XxHash3(id) % 8</c>, so a storm of alerts is spread over eight keys; <c>SK</c> = the id,
/// so a partition reads newest first. The item holds the alert's JSON and, for filters, its rule,
/// level and event-time bounds. The months that hold alerts are listed in one item
/// (<c>alerts</c>/<c>months</c>), and a listing walks them newest first, the eight partitions of a
/// month at once, merging by id: the same order and pages as the node's own store.
/// </summary>
internal sealed class DynamoDbAlertStore(IAmazonDynamoDB client, DynamoDbOptions options, BatchWriter writer, ILogger<DynamoDbAlertStore> logger) : ISharedAlertStore
{
    private const int Shards = 8;
    private const string MonthsPartition = "alerts";
    private const string MonthsSortKey = "months";
    private const string Months = "m";
    private const string Body = "alert";
    private const string Rule = "rule";
    private const string Level = "level";
    private const string Title = "title";
    // The sources of the alert's events, for ?sourceIP= (a string set cannot be empty: "-" when none).
    private const string Sources = "sources";
    private const string First = "first";
    private const string Last = "last";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HashSet<string> _recordedMonths = new(StringComparer.Ordinal);
    private readonly TableOnce _table = new(client, options.TableName, logger);

    public async ValueTask PutAsync(IReadOnlyCollection<Alert> alerts, CancellationToken cancellationToken)
    {
        await _table.EnsureAsync(cancellationToken);
        // A month is listed before any alert is written under it, so a reader never misses one.
        var months = alerts.Select(a => MonthOf(a.Id)).Where(m => !_recordedMonths.Contains(m)).Distinct(StringComparer.Ordinal).ToList();
        if (months.Count > 0)
        {
            await client.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = options.TableName,
                Key = MonthsKey(),
                UpdateExpression = "ADD #m :m",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#m"] = Months },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":m"] = new AttributeValue { SS = months } },
            }, cancellationToken);
            _recordedMonths.UnionWith(months);
        }
        var requests = alerts.Select(a => new WriteRequest(new PutRequest(new Dictionary<string, AttributeValue>
        {
            [DynamoDbTable.PartitionKey] = new AttributeValue(PartitionOf(MonthOf(a.Id), ShardOf(a.Id))),
            [DynamoDbTable.SortKey] = new AttributeValue(a.Id),
            [Body] = new AttributeValue(JsonSerializer.Serialize(a, Json)),
            [Rule] = new AttributeValue(a.RuleId),
            [Level] = new AttributeValue(a.Level),
            [Title] = new AttributeValue(a.Title),
            [Sources] = new AttributeValue { SS = [.. a.Events.Select(e => e.SourceIP).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).DefaultIfEmpty("-")] },
            [First] = Number(Timestamps.ParseCanonical(a.FirstSeen)),
            [Last] = Number(Timestamps.ParseCanonical(a.LastSeen)),
        }))).ToList();
        await writer.WriteAsync(options.TableName, requests, cancellationToken);
    }

    public async ValueTask<Alert?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!Ulid.TryParse(id, out _))
        {
            return null;
        }
        var item = (await client.GetItemAsync(new GetItemRequest
        {
            TableName = options.TableName,
            Key = new() { [DynamoDbTable.PartitionKey] = new(PartitionOf(MonthOf(id), ShardOf(id))), [DynamoDbTable.SortKey] = new(id) },
            ConsistentRead = true,
        }, cancellationToken)).Item;
        return item is { Count: > 0 } && item.TryGetValue(Body, out var body) ? JsonSerializer.Deserialize<Alert>(body.S, Json) : null;
    }

    public async ValueTask<AlertPage> QueryAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        var months = await ListedMonthsAsync(cancellationToken);
        if (query.AfterId is { } after)
        {
            var cursorMonth = MonthOf(after);
            months = [.. months.Where(m => string.CompareOrdinal(m, cursorMonth) <= 0)];
        }
        // One more than the page, to know whether another page follows.
        var wanted = query.Limit + 1;
        var found = new List<Alert>(Math.Min(wanted, 1024));
        var budget = query.MaxExamined;
        foreach (var month in months)
        {
            var need = wanted - found.Count;
            // Past the page's budget each shard still reads one item, so a page always moves on.
            var shardBudget = Math.Max(1, budget / Shards);
            var shards = await Task.WhenAll(Enumerable.Range(0, Shards).Select(shard => ReadAsync(PartitionOf(month, shard), query, need, shardBudget, cancellationToken)));
            budget -= shards.Sum(s => s.Examined);
            // A shard that used its budget has not read below where it stopped: the page holds only
            // what every shard has read past, and goes on from the highest of those stops.
            var stop = shards.Select(s => s.StoppedAt).Where(k => k is not null).Max(StringComparer.Ordinal);
            // Every alert of a month is newer than every alert of the months before it.
            found.AddRange(shards.SelectMany(s => s.Alerts).Where(a => stop is null || string.CompareOrdinal(a.Id, stop) >= 0)
                .OrderByDescending(a => a.Id, StringComparer.Ordinal).Take(need));
            if (found.Count == wanted)
            {
                break;
            }
            if (stop is not null)
            {
                return new AlertPage(found, stop);
            }
        }
        return found.Count == wanted
            ? new AlertPage(found[..query.Limit], found[query.Limit - 1].Id)
            : new AlertPage(found, null);
    }

    /// <summary>What one shard's read gave: the alerts matched, how many it examined, and where it stopped when its budget ran out with more below.</summary>
    private sealed record ShardRead(List<Alert> Alerts, int Examined, string? StoppedAt);

    private async Task<ShardRead> ReadAsync(string partition, AlertQuery query, int need, int budget, CancellationToken cancellationToken)
    {
        var request = new QueryRequest
        {
            TableName = options.TableName,
            KeyConditionExpression = "#pk = :pk",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = DynamoDbTable.PartitionKey },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":pk"] = new AttributeValue(partition) },
            ScanIndexForward = false,
        };
        if (query.AfterId is { } after)
        {
            request.KeyConditionExpression += " AND #sk < :after";
            request.ExpressionAttributeNames["#sk"] = DynamoDbTable.SortKey;
            request.ExpressionAttributeValues[":after"] = new AttributeValue(after);
        }
        var filters = new List<string>();
        void Filter(string expression, string name, string attribute, string value, AttributeValue operand)
        {
            filters.Add(expression);
            request.ExpressionAttributeNames[name] = attribute;
            request.ExpressionAttributeValues[value] = operand;
        }
        if (query.Rule is { } rule)
        {
            Filter("(#rule = :rule OR #title = :rule)", "#rule", Rule, ":rule", new AttributeValue(rule));
            request.ExpressionAttributeNames["#title"] = Title;
        }
        if (query.SourceIP is { } source)
        {
            Filter("contains(#sources, :source)", "#sources", Sources, ":source", new AttributeValue(source));
        }
        if (query.Level is { } level)
        {
            Filter("#level = :level", "#level", Level, ":level", new AttributeValue(level));
        }
        // An alert is in [from, to) when its span of events overlaps the range.
        if (query.FromMs is { } from)
        {
            Filter("#last >= :from", "#last", Last, ":from", Number(from));
        }
        if (query.ToMs is { } to)
        {
            Filter("#first < :to", "#first", First, ":to", Number(to));
        }
        if (filters.Count > 0)
        {
            request.FilterExpression = string.Join(" AND ", filters);
        }
        var alerts = new List<Alert>();
        var examined = 0;
        string? lowest = null;
        do
        {
            request.Limit = Math.Min(Math.Min(need, 1000), budget - examined);
            var response = await client.QueryAsync(request, cancellationToken);
            alerts.AddRange((response.Items ?? []).Select(i => JsonSerializer.Deserialize<Alert>(i[Body].S, Json)!));
            examined += response.ScannedCount ?? 0;
            request.ExclusiveStartKey = response.LastEvaluatedKey;
            if (request.ExclusiveStartKey is { Count: > 0 } last)
            {
                lowest = last[DynamoDbTable.SortKey].S;
            }
        }
        while (alerts.Count < need && examined < budget && request.ExclusiveStartKey is { Count: > 0 });
        var stopped = alerts.Count < need && request.ExclusiveStartKey is { Count: > 0 } ? lowest : null;
        return new ShardRead(alerts, examined, stopped);
    }

    /// <summary>The months that hold alerts, newest first.</summary>
    private async Task<List<string>> ListedMonthsAsync(CancellationToken cancellationToken)
    {
        var item = (await client.GetItemAsync(new GetItemRequest { TableName = options.TableName, Key = MonthsKey(), ConsistentRead = true }, cancellationToken)).Item;
        return item is not null && item.TryGetValue(Months, out var months)
            ? [.. months.SS.OrderDescending(StringComparer.Ordinal)]
            : [];
    }

    private static string MonthOf(string id) => Ulid.Parse(id).Time.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static int ShardOf(string id) => (int)(XxHash3.HashToUInt64(Encoding.ASCII.GetBytes(id)) % Shards);

    private static string PartitionOf(string month, int shard) => string.Create(CultureInfo.InvariantCulture, $"alerts#{month}#{shard}");

    private static Dictionary<string, AttributeValue> MonthsKey() => new()
    {
        [DynamoDbTable.PartitionKey] = new AttributeValue(MonthsPartition),
        [DynamoDbTable.SortKey] = new AttributeValue(MonthsSortKey),
    };

    private static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };
}
