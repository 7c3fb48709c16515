using System.Diagnostics.Metrics;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Logging;

namespace Hydrant.Detection;

/// <summary>Settings of the detector. Built once from configuration.</summary>
public sealed record DetectionOptions
{
    /// <summary>Repeats of one rule and group key within this long (event time) update one alert instead of raising another.</summary>
    public TimeSpan SuppressionWindow { get; init; } = TimeSpan.FromMinutes(5);

    public CorrelationOptions Correlation { get; init; } = new();
}

/// <summary>
/// The spool consumer that runs the rules on every event, and the correlations over their
/// matches. A batch's alerts (new, and open ones updated under suppression) and the correlation
/// windows it changed are committed with the batch's spool position in one write, then published
/// live; so after kill -9 detection resumes at the first event whose alerts were not stored, and
/// no alert is lost or doubled, no event counted twice in a window.
/// </summary>
public sealed partial class Detector : ISpoolConsumer
{
    /// <summary>Called once a second while the spool is quiet too: for events other nodes forwarded, and alerts an analyst closed.</summary>
    private static readonly SpoolBatching DetectorBatching = SpoolBatching.Immediate with { IdleCall = TimeSpan.FromSeconds(1) };
    /// <summary>
    /// Alerts still taking repeats, per rule and group: usually one, more while events of an older
    /// era (a backfill) raise their own alert beside the live one.
    /// </summary>
    private readonly Dictionary<(string RuleId, string? GroupKey), List<OpenAlert>> _open = [];
    private readonly LogThrottle _lateLog = new(TimeSpan.FromMinutes(1));
    private readonly Dictionary<string, long> _lateLogged = new(StringComparer.Ordinal);
    private readonly List<CorrelationHit> _hits = [];
    private readonly List<CorrelationFiring> _firings = [];
    private readonly List<CorrelationHit> _batchHits = [];
    private readonly List<int> _batchHitEvents = [];
    private readonly List<CorrelationHit> _sharedHits = [];
    private readonly List<(int Event, SigmaRule Rule)> _raises = [];
    private readonly RuleRegistry _rules;
    private readonly IAlertStore _store;
    private readonly AlertFeed _feed;
    private readonly DetectionOptions _options;
    private readonly ILogger<Detector> _logger;
    private readonly CorrelationEngine _correlations;
    private readonly ISharedDetectionState _shared;
    private readonly IAlertTriage? _triage;
    /// <summary>The closed epoch the open alerts were last checked at; -1: not yet since they were loaded.</summary>
    private long _closedEpoch = -1;
    private long _raised;
    private long _updated;
    private bool _restoreBeforeNextBatch;
    /// <summary>Whether alerts opened or closed since the last commit (the open set is stored only then).</summary>
    private bool _openChanged;
    private string? _forwardedPosition;
    private long _checkpoint;
    private int _batchRaised;
    private int _batchUpdated;

    public Detector(RuleRegistry rules, IAlertStore store, AlertFeed feed, DetectionOptions options, ILogger<Detector> logger, IMeterFactory meterFactory, ISharedDetectionState shared,
        IAlertTriage? triage = null)
    {
        _triage = triage;
        // With other nodes (Redis) the correlations it can share are counted there, not here, and
        // an alert is raised only by the node that holds it; alone, everything is this node's.
        _shared = shared;
        _rules = rules;
        _store = store;
        _feed = feed;
        _options = options;
        _logger = logger;
        _correlations = new CorrelationEngine(_options.Correlation);
        // The factory owns the meter (shared with the ingest counters) and disposes it.
        var meter = meterFactory.Create(IngestStats.MeterName);
        meter.CreateObservableGauge("correlation_groups", () => _correlations.OpenGroups, description: "Correlation groups with events in a window");
        meter.CreateObservableCounter("alerts_raised", () => AlertsRaised, description: "New alerts raised by this node");
        meter.CreateObservableCounter("alerts_updated", () => AlertsUpdated, description: "Repeats added to an open alert under suppression");
        meter.CreateObservableCounter("correlation_late_events", LateEvents, description: "Events that arrived for a correlation window already judged, not counted, per correlation rule");
        meter.CreateObservableCounter("correlation_evicted_events", () => _correlations.EvictedHits, description: "Events dropped from correlation groups that held the most allowed");
    }

    public string Name => "detector";

    /// <summary>New alerts this node has raised since it started.</summary>
    public long AlertsRaised => Interlocked.Read(ref _raised);

    /// <summary>Repeats this node has added to open alerts under suppression since it started.</summary>
    public long AlertsUpdated => Interlocked.Read(ref _updated);

    public SpoolBatching Batching => DetectorBatching;

    public async ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken)
    {
        await _rules.LoadAsync(cancellationToken);
        _correlations.Use(_rules.Current.Plan);
        await RestoreAsync(cancellationToken);
        _logger.LogInformation("Detector loaded {Rules} rules, {Correlations} correlations ({Refused} refused), {Open} open alerts, {Groups} correlation groups",
            _rules.Current.Rules.Count, _rules.Current.Correlations.Count, _rules.Current.Refusals.Count, _open.Values.Sum(o => o.Count), _correlations.OpenGroups);
        _checkpoint = await _store.LoadCheckpointAsync(cancellationToken);
        return _checkpoint;
    }

    public async ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken)
    {
        if (_restoreBeforeNextBatch)
        {
            await RestoreAsync(cancellationToken);
            _restoreBeforeNextBatch = false;
        }
        try
        {
            await DetectAsync(entries, cancellationToken);
        }
        catch
        {
            // The batch will be offered again (shared state down, a commit refused): what it did to
            // the open alerts and windows in memory is undone first, so no event counts twice.
            _restoreBeforeNextBatch = true;
            throw;
        }
    }

    /// <summary>The open alerts and correlation windows as of the last commit.</summary>
    private async ValueTask RestoreAsync(CancellationToken cancellationToken)
    {
        _open.Clear();
        _openChanged = false;
        _closedEpoch = -1;
        var state = await _store.LoadStateAsync(cancellationToken);
        _forwardedPosition = await _store.LoadForwardedPositionAsync(cancellationToken);
        _correlations.Restore(state);
        foreach (var alert in await _store.LoadOpenAsync(cancellationToken))
        {
            // Restored alerts take repeats for a suppression window of the stream clock from now on.
            OpenOf((alert.RuleId, alert.GroupKey)).Add(OpenAlert.From(alert, _correlations.Watermark));
        }
    }

    private async ValueTask DetectAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken)
    {
        var ruleSet = await _rules.LookupAsync(cancellationToken);
        var plan = ruleSet.Plan;
        _batchRaised = _batchUpdated = 0;
        _correlations.Use(plan);
        var changed = new Dictionary<string, OpenAlert>(StringComparer.Ordinal);
        var forwarded = await _shared.ReceiveForwardedAsync(_forwardedPosition, cancellationToken);
        // After everything this batch takes has arrived: an event sent after a close is counted after it.
        await ForgetClosedAsync(cancellationToken);
        RaiseForwarded(forwarded.Hits, ruleSet, changed);
        if (entries.Count == 0 && changed.Count == 0 && forwarded.WindowHits.Count == 0)
        {
            return;
        }
        var matches = MatchAll(entries, ruleSet);
        for (var i = 0; i < entries.Count; i++)
        {
            if (matches[i] is { Error: { } e })
            {
                // One event no rule can read must not stop detection for the others.
                throw new SpoolEntryException(entries[i].Sequence, "detection cannot read the event: " + e.Message, e);
            }
        }
        await ApplyAsync(matches, plan, forwarded, changed, cancellationToken);

        CloseSuppression();
        LogLateEvents(ruleSet);
        var state = _correlations.TakeChanges();
        var checkpoint = entries.Count > 0 ? entries[^1].Sequence + 1 : _checkpoint;
        IReadOnlyCollection<Alert>? open = _openChanged ? [.. _open.Values.SelectMany(o => o).Select(a => a.Alert)] : null;
        var movedForwarded = forwarded.Position is { } position && position != _forwardedPosition ? position : null;
        await _store.CommitAsync(new DetectorCommit([.. changed.Values.Select(a => a.Alert)], open, state, checkpoint) { ForwardedPosition = movedForwarded }, cancellationToken);
        _checkpoint = checkpoint;
        _openChanged = false;
        if (movedForwarded is not null)
        {
            _forwardedPosition = movedForwarded;
            await AcknowledgeForwardedAsync(movedForwarded, cancellationToken);
        }
        foreach (var alert in changed.Values)
        {
            _feed.Publish(alert.Alert);
        }
        Interlocked.Add(ref _raised, _batchRaised);
        Interlocked.Add(ref _updated, _batchUpdated);
    }

    /// <summary>At most once a minute per correlation: how many events arrived for windows already judged.</summary>
    private void LogLateEvents(RuleSet ruleSet)
    {
        foreach (var (id, late) in _correlations.LateByCorrelation)
        {
            var logged = _lateLogged.GetValueOrDefault(id);
            if (late > logged && _lateLog.ShouldLog(id, DateTimeOffset.UtcNow, out _))
            {
                var title = ruleSet.Correlations.FirstOrDefault(c => c.Correlation.Id == id)?.Correlation.Title ?? id;
                _logger.LogWarning("Correlation {Title} ({Id}) did not count {Late} events that arrived for windows already judged (allowed lateness {Lateness}); {Total} so far",
                    title, id, late - logged, _options.Correlation.AllowedLateness, late);
                _lateLogged[id] = late;
            }
        }
    }

    private IEnumerable<Measurement<long>> LateEvents() =>
        [.. _correlations.LateByCorrelation.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("rule", l.Key)))];
}
