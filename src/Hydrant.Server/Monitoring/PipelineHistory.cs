using Hydrant.Detection;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Server.Monitoring;

/// <summary>The pipeline's counters at one moment: cumulative totals, levels, and each consumer's position and lag.</summary>
public sealed record PipelineSample(long AtMs, long Accepted, long Rejected, long Duplicates, long Throttled, long SpoolDepth,
    IReadOnlyDictionary<string, (long Position, long Lag)> Consumers, long AlertsRaised, long AlertsUpdated)
{
    /// <summary>How fast a counter grew from <paramref name="before"/> to this sample, per second (0 without time between them).</summary>
    public double PerSecond(PipelineSample before, Func<PipelineSample, long> counter) =>
        AtMs > before.AtMs ? (counter(this) - counter(before)) * 1000.0 / (AtMs - before.AtMs) : 0;

    /// <summary>How fast a consumer took events from <paramref name="before"/> to this sample, per second (0 when either lacks it).</summary>
    public double PerSecond(PipelineSample before, string consumer) =>
        Consumers.TryGetValue(consumer, out var now) && before.Consumers.TryGetValue(consumer, out var then) && AtMs > before.AtMs
            ? (now.Position - then.Position) * 1000.0 / (AtMs - before.AtMs)
            : 0;
}

/// <summary>
/// The last hour of the pipeline, sampled every <c>Hydrant:Stats:SampleSeconds</c> (5) into a ring
/// (at most 3,600 samples), so a graph opened now has the hour behind it: rates are the
/// differences of consecutive samples.
/// </summary>
public sealed class PipelineHistory(IngestStats stats, ISpool spool, SpoolConsumerRunner consumers, IEnumerable<ISpoolConsumer> all, TimeProvider time, TimeSpan interval) : BackgroundService
{
    private readonly Lock _gate = new();
    private readonly Queue<PipelineSample> _samples = new();
    private readonly int _capacity = (int)Math.Clamp(TimeSpan.FromHours(1) / interval, 2, 3600);
    private readonly Detector? _detector = all.OfType<Detector>().FirstOrDefault();
    private readonly HourlyCounts _alertsPerHour = new();
    private long _alertsRaisedBefore;

    public TimeSpan Interval => interval;

    /// <summary>Alerts this node's detector raised in each of the last 24 UTC hours (since it started), oldest first.</summary>
    public IReadOnlyList<(long HourStartMs, long Count)> AlertsPerHour() => _alertsPerHour.Last(time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>The samples of the last <paramref name="seconds"/>, oldest first.</summary>
    public IReadOnlyList<PipelineSample> Since(long seconds)
    {
        var from = time.GetUtcNow().ToUnixTimeMilliseconds() - (seconds * 1000);
        lock (_gate)
        {
            return [.. _samples.Where(s => s.AtMs >= from)];
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        Take();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Take();
        }
    }

    private void Take()
    {
        var sample = new PipelineSample(time.GetUtcNow().ToUnixTimeMilliseconds(), stats.Accepted, stats.Rejected, stats.Duplicates, stats.Throttled, spool.Depth,
            consumers.Lags().ToDictionary(l => l.Consumer, l => (l.Position, l.Events), StringComparer.Ordinal),
            _detector?.AlertsRaised ?? 0, _detector?.AlertsUpdated ?? 0);
        _alertsPerHour.Add(sample.AtMs, sample.AlertsRaised - _alertsRaisedBefore);
        _alertsRaisedBefore = sample.AlertsRaised;
        lock (_gate)
        {
            _samples.Enqueue(sample);
            while (_samples.Count > _capacity)
            {
                _samples.Dequeue();
            }
        }
    }
}
