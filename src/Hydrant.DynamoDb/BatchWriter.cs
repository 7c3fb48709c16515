using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Polly;
using Polly.Retry;

namespace Hydrant.DynamoDb;

/// <summary>
/// Writes items with BatchWriteItem, 25 per call and several calls in flight. Items DynamoDB
/// hands back unprocessed, and calls refused for throttling, are retried with jittered exponential
/// backoff (Polly). The number of calls in flight adapts: halved when DynamoDB throttles, raised by
/// one after a run of calls that were not, up to the configured most.
/// </summary>
internal sealed class BatchWriter
{
    public const int ItemsPerCall = 25;
    private const int CallsBeforeRaise = 50;

    private readonly IAmazonDynamoDB _client;
    private readonly KeyWriteRates _rates;
    private readonly int _maxInFlight;
    private readonly ResiliencePipeline _retry;
    private readonly Lock _limitLock = new();
    private int _limit;
    private int _inFlight;
    private int _calmCalls;
    private long _throttles;
    private TaskCompletionSource _slotFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BatchWriter(IAmazonDynamoDB client, int maxInFlight, KeyWriteRates rates)
    {
        _client = client;
        _rates = rates;
        _maxInFlight = Math.Max(1, maxInFlight);
        _limit = _maxInFlight;
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ProvisionedThroughputExceededException>().Handle<RequestLimitExceededException>()
                    .Handle<ThrottlingException>().Handle<UnprocessedItemsException>(),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(50),
                MaxDelay = TimeSpan.FromSeconds(5),
                MaxRetryAttempts = 12,
                OnRetry = _ =>
                {
                    Throttled();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Calls allowed in flight now.</summary>
    public int Limit => Volatile.Read(ref _limit);

    /// <summary>Calls (or unprocessed items) DynamoDB has refused for throttling since the start.</summary>
    public long Throttles => Interlocked.Read(ref _throttles);

    public async Task WriteAsync(string table, IReadOnlyList<WriteRequest> requests, CancellationToken cancellationToken)
    {
        var calls = new List<Task>((requests.Count / ItemsPerCall) + 1);
        for (var start = 0; start < requests.Count; start += ItemsPerCall)
        {
            var chunk = requests.Skip(start).Take(ItemsPerCall).ToList();
            await EnterAsync(cancellationToken);
            calls.Add(CallAsync(table, chunk, cancellationToken));
        }
        await Task.WhenAll(calls);
    }

    private async Task CallAsync(string table, List<WriteRequest> chunk, CancellationToken cancellationToken)
    {
        try
        {
            var pending = chunk;
            await _retry.ExecuteAsync(async token =>
            {
                Count(pending);
                var response = await _client.BatchWriteItemAsync(new BatchWriteItemRequest
                {
                    RequestItems = new Dictionary<string, List<WriteRequest>> { [table] = pending },
                }, token);
                if (response.UnprocessedItems is { } unprocessed && unprocessed.TryGetValue(table, out var left) && left.Count > 0)
                {
                    pending = left;
                    throw new UnprocessedItemsException(left.Count);
                }
            }, cancellationToken);
            Calm();
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Write units per partition key as the call goes out: the table's key and the source index's.</summary>
    private void Count(List<WriteRequest> requests)
    {
        foreach (var request in requests)
        {
            if (request.PutRequest?.Item is not { } item)
            {
                continue;
            }
            var units = HotKeys.UnitsOf(ItemBytes(item));
            _rates.Record(item[DynamoDbTable.PartitionKey].S, units);
            if (item.TryGetValue(DynamoDbTable.SourcePartitionKey, out var source))
            {
                _rates.Record(source.S, units);
            }
        }
    }

    /// <summary>An item's size as DynamoDB bills it: attribute names and values.</summary>
    public static int ItemBytes(Dictionary<string, AttributeValue> item)
    {
        var bytes = 0;
        foreach (var (name, value) in item)
        {
            bytes += System.Text.Encoding.UTF8.GetByteCount(name) + (value.S is { } text ? System.Text.Encoding.UTF8.GetByteCount(text) : (value.N?.Length ?? 0));
        }
        return bytes;
    }

    private async Task EnterAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task freed;
            lock (_limitLock)
            {
                if (_inFlight < _limit)
                {
                    _inFlight++;
                    return;
                }
                freed = _slotFreed.Task;
            }
            await freed.WaitAsync(cancellationToken);
        }
    }

    private void Leave()
    {
        TaskCompletionSource freed;
        lock (_limitLock)
        {
            _inFlight--;
            freed = _slotFreed;
            _slotFreed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        freed.SetResult();
    }

    private void Throttled()
    {
        Interlocked.Increment(ref _throttles);
        lock (_limitLock)
        {
            _limit = Math.Max(1, _limit / 2);
            _calmCalls = 0;
        }
    }

    private void Calm()
    {
        lock (_limitLock)
        {
            if (++_calmCalls >= CallsBeforeRaise && _limit < _maxInFlight)
            {
                _limit++;
                _calmCalls = 0;
            }
        }
    }

    /// <summary>DynamoDB accepted the call but not all of its items: retried like throttling, with only those items.</summary>
    private sealed class UnprocessedItemsException(int count) : Exception($"{count} items unprocessed");
}
