using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Hydrant.Storage;
using Hydrant.Threading;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hydrant.Spool;

/// <summary>
/// Drives every registered <see cref="ISpoolConsumer"/>: batches, back-off after failures, and
/// progress reports to the spool. Consumers are registered before the host serves requests, so
/// nothing they have not read can be trimmed. Each consumer's lag behind the spool is measured
/// here, the same way for all of them. Each consumer's loop runs on a thread of its own at the
/// consumer's priority (<see cref="SpoolBatching.Niceness"/>), below ingest's.
/// </summary>
public sealed class SpoolConsumerRunner : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PositionTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LagTick = TimeSpan.FromSeconds(1);

    private readonly ISpool _spool;
    private readonly IDeadLetterStore _deadLetters;
    private readonly LogThrottle _setAsideLog = new(TimeSpan.Zero);
    private readonly IReadOnlyList<ISpoolConsumer> _consumers;
    private readonly ILogger<SpoolConsumerRunner> _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly ConcurrentDictionary<string, long> _positions = new();
    private readonly SpoolLag _lag = new(TimeSpan.FromHours(6));
    private int _disposed;

    public SpoolConsumerRunner(ISpool spool, IDeadLetterStore deadLetters, IEnumerable<ISpoolConsumer> consumers, ILogger<SpoolConsumerRunner> logger, TimeProvider time, IMeterFactory meterFactory)
    {
        _spool = spool;
        _deadLetters = deadLetters;
        _consumers = [.. consumers];
        _logger = logger;
        _time = time;
        var meter = meterFactory.Create(IngestStats.MeterName);
        meter.CreateObservableGauge("spool_consumer_lag_events", () => Lags().Select(l => new Measurement<long>(l.Events, new KeyValuePair<string, object?>("consumer", l.Consumer))),
            description: "Spool entries a consumer has not handled yet");
        meter.CreateObservableGauge("spool_consumer_lag_seconds", () => Lags().Select(l => new Measurement<double>(l.Seconds, new KeyValuePair<string, object?>("consumer", l.Consumer))),
            description: "How long ago the oldest entry a consumer has not handled was appended");
        meter.CreateObservableCounter("dead_letters", () =>
            {
                var counts = _deadLetters.Counts();
                return _consumers.Select(c => new Measurement<long>(counts.GetValueOrDefault(c.Name), new KeyValuePair<string, object?>("consumer", c.Name)));
            },
            description: "Spool entries a consumer could not process, set aside with the reason (GET /v1/deadletters)");
    }

    /// <summary>Where one consumer stands against the spool now; null before it is registered.</summary>
    public ConsumerLag? LagOf(string consumer) => Lags().Where(l => l.Consumer == consumer).Select(l => (ConsumerLag?)l).FirstOrDefault();

    /// <summary>Where each consumer stands against the spool now.</summary>
    public IReadOnlyList<ConsumerLag> Lags()
    {
        var head = _spool.AcceptedSequence;
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return [.. _positions.Select(p => new ConsumerLag(p.Key, p.Value, Math.Max(0, head - p.Value), _lag.SecondsBehind(p.Value, head, now)))];
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Every consumer is registered before any runs, so none trims entries another still needs.
        var starts = new List<(ISpoolConsumer Consumer, long? Position)>();
        foreach (var consumer in _consumers)
        {
            var position = await TryLoadPositionAsync(consumer, cancellationToken);
            // A consumer whose backend does not answer yet holds every entry still kept until it does.
            var held = position ?? _spool.FirstSequence;
            _spool.RegisterConsumer(consumer.Name, held);
            _positions[consumer.Name] = held;
            starts.Add((consumer, position));
        }
        foreach (var (consumer, position) in starts)
        {
            _loops.Add(LowPriorityWorker.RunLoop($"spool-{consumer.Name}", consumer.Batching.Niceness, () => RunAsync(consumer, position, _stopping.Token)));
        }
        _loops.Add(Task.Run(() => SampleHeadAsync(_stopping.Token), CancellationToken.None));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        // The container may hand this out as a singleton and as a hosted service: disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    private async Task SampleHeadAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(LagTick, _time);
        try
        {
            do
            {
                _lag.Sample(_time.GetUtcNow().ToUnixTimeMilliseconds(), _spool.AcceptedSequence);
            }
            while (await timer.WaitForNextTickAsync(stopping));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task LingerAsync(long fullBatch, TimeSpan linger, CancellationToken stopping)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(linger);
        await _spool.WaitForEntriesAsync(fullBatch, deadline.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stopping.ThrowIfCancellationRequested();
    }

    private async Task<long?> TryLoadPositionAsync(ISpoolConsumer consumer, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(PositionTimeout);
        try
        {
            return await consumer.LoadPositionAsync(limit.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning(e, "Spool consumer {Consumer} cannot read its position yet; the spool keeps its entries until it can", consumer.Name);
            return null;
        }
    }

    /// <summary>Whether an entry at <paramref name="position"/> arrived within <paramref name="idle"/>.</summary>
    private async Task<bool> WaitForEntriesAsync(long position, TimeSpan idle, CancellationToken stopping)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(idle);
        await _spool.WaitForEntriesAsync(position, deadline.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stopping.ThrowIfCancellationRequested();
        return !deadline.IsCancellationRequested;
    }

    private async Task RunAsync(ISpoolConsumer consumer, long? startPosition, CancellationToken stopping)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (startPosition is null && !stopping.IsCancellationRequested)
        {
            await Task.Delay(backoff, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            startPosition = await TryLoadPositionAsync(consumer, stopping);
        }
        if (startPosition is not { } position)
        {
            return;
        }
        _spool.ReportProgress(consumer.Name, position);
        _positions[consumer.Name] = position;
        backoff = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var batching = consumer.Batching;
                if (batching.IdleCall is { } idle && !await WaitForEntriesAsync(position, idle, stopping))
                {
                    await consumer.ConsumeAsync([], stopping);
                    continue;
                }
                await _spool.WaitForEntriesAsync(position, stopping);
                if (batching.Linger > TimeSpan.Zero)
                {
                    await LingerAsync(position + batching.MaxEntries - 1, batching.Linger, stopping);
                }
                var entries = _spool.Read(position, batching.MaxEntries);
                if (entries.Count == 0)
                {
                    // Entries below the spool's trim point are gone; resume at the first kept one.
                    position = Math.Max(position, _spool.NextSequence);
                    continue;
                }
                await ConsumeSettingAsideAsync(consumer, [.. entries], reached =>
                {
                    position = reached;
                    _spool.ReportProgress(consumer.Name, position);
                    _positions[consumer.Name] = position;
                }, stopping);
                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Spool consumer {Consumer} failed at position {Position}; retrying in {Backoff}", consumer.Name, position, backoff);
                await Task.Delay(backoff, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>
    /// Offers the entries; when the consumer names one it cannot process, or fails in a way it
    /// says the entries caused, the entry at fault is set aside (found by offering halves) and the
    /// rest offered again, so one bad event never stops a consumer. Other failures (a backend
    /// down) propagate, to be retried with back-off from the position reached.
    /// </summary>
    private async Task ConsumeSettingAsideAsync(ISpoolConsumer consumer, List<SpoolEntry> entries, Action<long> reached, CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                await consumer.ConsumeAsync(entries, stopping);
                reached(entries[^1].Sequence + 1);
                return;
            }
            catch (SpoolEntryException e) when (entries.FindIndex(x => x.Sequence == e.Sequence && !x.Json.IsEmpty) is var at and >= 0)
            {
                entries[at] = SetAside(consumer, entries[at], e.Message);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested && consumer.IsCausedByEntries(e) && entries.Count(x => !x.Json.IsEmpty) > 1)
            {
                var half = entries.Count / 2;
                await ConsumeSettingAsideAsync(consumer, entries[..half], reached, stopping);
                entries = entries[half..];
            }
            catch (Exception e) when (!stopping.IsCancellationRequested && consumer.IsCausedByEntries(e) && entries.FindIndex(x => !x.Json.IsEmpty) is var alone and >= 0)
            {
                entries[alone] = SetAside(consumer, entries[alone], e.Message);
            }
        }
    }

    /// <summary>Keeps the entry as a dead letter; what the consumer is offered instead is the entry with no bytes, to step over.</summary>
    private SpoolEntry SetAside(ISpoolConsumer consumer, SpoolEntry entry, string reason)
    {
        _deadLetters.SetAside(new DeadLetter(consumer.Name, entry.Sequence, _time.GetUtcNow().ToUnixTimeMilliseconds(), reason, entry.Json));
        if (_setAsideLog.ShouldLog(consumer.Name, _time.GetUtcNow(), out var suppressed))
        {
            _logger.LogWarning("Spool consumer {Consumer} set aside entry {Sequence} it cannot process ({Suppressed} more since the last message): {Reason}; GET /v1/deadletters lists them",
                consumer.Name, entry.Sequence, suppressed, reason);
        }
        return entry with { Json = ReadOnlyMemory<byte>.Empty };
    }
}
