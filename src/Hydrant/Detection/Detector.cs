using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Fields;
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
public sealed class Detector : ISpoolConsumer
{
    /// <summary>Where, beside the windows, the position in the forwarded events is committed.</summary>
    private const string ForwardedKey = "shared/forwarded";

    private static readonly SpoolBatching SharedBatching = SpoolBatching.Immediate with { IdleCall = TimeSpan.FromSeconds(1) };
    /// <summary>
    /// Alerts still taking repeats, per rule and group: usually one, more while events of an older
    /// era (a backfill) raise their own alert beside the live one.
    /// </summary>
    private readonly Dictionary<(string RuleId, string? GroupKey), List<OpenAlert>> _open = [];
    private readonly LogThrottle _lateLog = new(TimeSpan.FromMinutes(1));
    private readonly Dictionary<string, long> _lateLogged = new(StringComparer.Ordinal);
    private readonly List<CorrelationHit> _hits = [];
    private readonly List<CorrelationFiring> _firings = [];
    private readonly List<CorrelationHit> _sharedHits = [];
    private readonly List<(SigmaRule Rule, AlertEvent Event, long TimestampMs)> _sharedRaises = [];
    private readonly List<(int Event, CorrelationHit Hit)> _routedHits = [];
    private readonly List<(int Event, CorrelationHit Hit)> _engineHits = [];
    private readonly List<long> _eventTimes = [];
    private readonly RuleRegistry _rules;
    private readonly IAlertStore _store;
    private readonly AlertFeed _feed;
    private readonly DetectionOptions _options;
    private readonly ILogger<Detector> _logger;
    private readonly CorrelationEngine _correlations;
    private readonly ISharedDetectionState? _shared;
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

    public Detector(RuleRegistry rules, IAlertStore store, AlertFeed feed, DetectionOptions options, ILogger<Detector> logger, IMeterFactory meterFactory, IEnumerable<ISharedDetectionState> shared,
        IAlertTriage? triage = null)
    {
        _triage = triage;
        // State shared with other nodes (Redis), if any: the correlations it can share are counted
        // there, not here, and an alert is raised only by the node that holds it.
        _shared = shared.FirstOrDefault();
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

    /// <summary>With shared state, also called while the spool is quiet, for events other nodes forwarded.</summary>
    public SpoolBatching Batching => _shared is null ? SpoolBatching.Immediate : SharedBatching;


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
        _forwardedPosition = state.TryGetValue(ForwardedKey, out var position) ? Encoding.ASCII.GetString(position) : null;
        _correlations.Restore(state.Where(s => s.Key != ForwardedKey).ToDictionary());
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
        _sharedHits.Clear();
        _sharedRaises.Clear();
        _routedHits.Clear();
        _engineHits.Clear();
        _eventTimes.Clear();
        ForwardedHits? forwarded = null;
        if (_shared is not null)
        {
            forwarded = await _shared.ReceiveForwardedAsync(_forwardedPosition, cancellationToken);
        }
        // After everything this batch takes has arrived: an event sent after a close is counted after it.
        await ForgetClosedAsync(cancellationToken);
        if (forwarded is not null)
        {
            RaiseForwarded(forwarded.Hits, ruleSet, changed);
        }
        if (entries.Count == 0 && changed.Count == 0 && forwarded?.WindowHits.Count is null or 0)
        {
            return;
        }
        var matches = MatchAll(entries, ruleSet, plan);
        for (var i = 0; i < entries.Count; i++)
        {
            switch (matches[i])
            {
                case null:
                    continue; // set aside, or dropped by retention before detection reached it
                case { Error: { } e }:
                    // One event no rule can read must not stop detection for the others.
                    throw new SpoolEntryException(entries[i].Sequence, "detection cannot read the event: " + e.Message, e);
                case var match:
                    Apply(match, plan, changed);
                    break;
            }
        }
        if (_shared is not null)
        {
            await ShareAsync(_shared, plan, forwarded!, changed, cancellationToken);
        }

        CloseSuppression();
        LogLateEvents(ruleSet);
        var state = _correlations.TakeChanges();
        if (forwarded?.Position is { } position && position != _forwardedPosition)
        {
            state = new Dictionary<string, byte[]?>(state) { [ForwardedKey] = Encoding.ASCII.GetBytes(position) };
        }
        var checkpoint = entries.Count > 0 ? entries[^1].Sequence + 1 : _checkpoint;
        IReadOnlyCollection<Alert>? open = _openChanged ? [.. _open.Values.SelectMany(o => o).Select(a => a.Alert)] : null;
        await _store.CommitAsync(new DetectorCommit([.. changed.Values.Select(a => a.Alert)], open, state, checkpoint), cancellationToken);
        _checkpoint = checkpoint;
        _openChanged = false;
        if (forwarded?.Position is { } taken && taken != _forwardedPosition)
        {
            _forwardedPosition = taken;
            await AcknowledgeForwardedAsync(taken, cancellationToken);
        }
        foreach (var alert in changed.Values)
        {
            _feed.Publish(alert.Alert);
        }
        Interlocked.Add(ref _raised, _batchRaised);
        Interlocked.Add(ref _updated, _batchUpdated);
    }

    /// <summary>What the rules made of one event: the event as alerts show it, the rules it matched and its correlation hits (or why it could not be read).</summary>
    private sealed record EventMatch(AlertEvent Behind, long TimestampMs, List<SigmaRule> Rules, List<CorrelationHit> Hits, Exception? Error = null);

    /// <summary>Batches smaller than this are matched on the consumer's own thread: spreading them costs more than it saves.</summary>
    private const int ParallelFrom = 64;

    /// <summary>
    /// Runs the rules on every event of the batch, on every core (matching reads only the rule set
    /// and the event, as hunt's workers do); null for an entry without an event. What the matches
    /// change (alerts, windows) is applied after, in spool order, on one thread.
    /// </summary>
    private static EventMatch?[] MatchAll(IReadOnlyList<SpoolEntry> entries, RuleSet ruleSet, CorrelationPlan plan)
    {
        var matches = new EventMatch?[entries.Count];
        if (entries.Count < ParallelFrom || Environment.ProcessorCount == 1)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                matches[i] = MatchOne(entries[i], ruleSet, plan);
            }
        }
        else
        {
            Parallel.For(0, entries.Count, i => matches[i] = MatchOne(entries[i], ruleSet, plan));
        }
        return matches;
    }

    private static EventMatch? MatchOne(SpoolEntry entry, RuleSet ruleSet, CorrelationPlan plan)
    {
        if (entry.Json.IsEmpty)
        {
            return null;
        }
        AlertEvent behind = default!;
        long timestampMs = 0;
        try
        {
            using var view = new EventView(entry.Json);
            behind = AlertEventOf(view, out timestampMs);
            var rules = new List<SigmaRule>();
            var hits = new List<CorrelationHit>();
            foreach (var rule in ruleSet.Matching(view))
            {
                rules.Add(rule);
                CorrelationHit.Extract(plan, rule, view, behind, timestampMs, hits);
            }
            return new EventMatch(behind, timestampMs, rules, hits);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new EventMatch(behind, timestampMs, [], [], e);
        }
    }

    /// <summary>Applies one event's matches: its alerts go to <paramref name="changed"/>, its correlation hits to the engine or the shared lists.</summary>
    private void Apply(EventMatch match, CorrelationPlan plan, Dictionary<string, OpenAlert> changed)
    {
        var (behind, timestampMs) = (match.Behind, match.TimestampMs);
        foreach (var rule in match.Rules)
        {
            if (plan.RaisesAlerts(rule) && _shared is not null)
            {
                _sharedRaises.Add((rule, behind, timestampMs));
            }
            else if (plan.RaisesAlerts(rule))
            {
                var alert = Raise(rule.Id, rule.Title, rule.Level, groupKey: null, [behind], 1, timestampMs, timestampMs);
                changed[alert.Alert.Id] = alert;
            }
        }
        if (_shared is null)
        {
            _firings.Clear();
            _correlations.Observe(match.Hits, timestampMs, _firings);
            RaiseFirings(changed);
            return;
        }
        // With shared state the engine's share waits until the keepers of the routed groups
        // are known, then takes every event in order.
        foreach (var hit in match.Hits)
        {
            if (ISharedDetectionState.CanShare(hit.Target.Node))
            {
                _sharedHits.Add(hit);
            }
            else
            {
                (ISharedDetectionState.RoutesToOwner(hit.Target.Node) ? _routedHits : _engineHits).Add((_eventTimes.Count, hit));
            }
        }
        _eventTimes.Add(timestampMs);
    }

    /// <summary>
    /// With shared state, after the batch's rules ran: routed hits go to their groups' keepers and
    /// the engine takes, in order, what stays here and what other nodes forwarded; single-event
    /// alerts are claimed; the hits of shared windows are counted in the shared state.
    /// </summary>
    private async ValueTask ShareAsync(ISharedDetectionState shared, CorrelationPlan plan, ForwardedHits forwarded, Dictionary<string, OpenAlert> changed, CancellationToken cancellationToken)
    {
        var kept = await shared.RouteAsync([.. _routedHits.Select(r => r.Hit)], cancellationToken);
        _engineHits.AddRange(_routedHits.Where((_, i) => kept[i]));
        ObserveInOrder(forwarded.WindowHits, plan, changed);
        if (_sharedRaises.Count > 0)
        {
            // Repeats that reach another node are that node's alert while it holds it.
            var rules = _sharedRaises.Select(r => r.Rule.Id).Distinct(StringComparer.Ordinal).ToList();
            var owned = await shared.ClaimAsync(
                [.. rules.Select(id => (id, (string?)null, (IReadOnlyList<AlertEvent>)[.. _sharedRaises.Where(r => r.Rule.Id == id).Select(r => r.Event)]))],
                cancellationToken);
            var mine = rules.Where((_, i) => owned[i]).ToHashSet(StringComparer.Ordinal);
            foreach (var (rule, behind, timestampMs) in _sharedRaises.Where(r => mine.Contains(r.Rule.Id)))
            {
                var alert = Raise(rule.Id, rule.Title, rule.Level, groupKey: null, [behind], 1, timestampMs, timestampMs);
                changed[alert.Alert.Id] = alert;
            }
        }
        if (_sharedHits.Count > 0)
        {
            _firings.Clear();
            await shared.ObserveAsync(_sharedHits, _correlations.Watermark, _checkpoint, _firings, cancellationToken);
            RaiseFirings(changed);
        }
    }

    /// <summary>
    /// Gives the engine, in the batch's order, each event's hits that stay on this node, with the
    /// hits other nodes forwarded for groups this node keeps slotted in by event time.
    /// </summary>
    private void ObserveInOrder(IReadOnlyList<ForwardedWindowHit> forwarded, CorrelationPlan plan, Dictionary<string, OpenAlert> changed)
    {
        // A correlation removed or redefined since has no group to add to.
        var nodes = forwarded.Count == 0 ? [] : plan.Nodes.ToDictionary(n => n.Correlation.Id, StringComparer.Ordinal);
        var arrived = forwarded
            .Select(f => nodes.TryGetValue(f.CorrelationId, out var node) && f.Member < node.Members.Count && ISharedDetectionState.RoutesToOwner(node)
                ? new CorrelationHit(new Subscription(node, f.Member), f.GroupValues, Timestamps.ParseCanonical(f.Event.Timestamp), f.Value, f.Number, f.Event)
                : null)
            .OfType<CorrelationHit>()
            .OrderBy(h => h.TimestampMs)
            .ToList();
        var mine = _engineHits.OrderBy(h => h.Event).ToList();
        var (next, own) = (0, 0);
        void Observe(IReadOnlyList<CorrelationHit> hits, long timestampMs)
        {
            _firings.Clear();
            _correlations.Observe(hits, timestampMs, _firings);
            RaiseFirings(changed);
        }
        for (var e = 0; e < _eventTimes.Count; e++)
        {
            for (; next < arrived.Count && arrived[next].TimestampMs <= _eventTimes[e]; next++)
            {
                Observe([arrived[next]], arrived[next].TimestampMs);
            }
            _hits.Clear();
            for (; own < mine.Count && mine[own].Event == e; own++)
            {
                _hits.Add(mine[own].Hit);
            }
            Observe(_hits, _eventTimes[e]);
        }
        for (; next < arrived.Count; next++)
        {
            Observe([arrived[next]], arrived[next].TimestampMs);
        }
    }

    /// <summary>Events other nodes saw for alerts this node owns: one more event each.</summary>
    private void RaiseForwarded(IReadOnlyList<ForwardedHit> hits, RuleSet ruleSet, Dictionary<string, OpenAlert> changed)
    {
        if (hits.Count == 0)
        {
            return;
        }
        var rules = new Dictionary<string, (string Title, string Level)>(StringComparer.Ordinal);
        foreach (var loaded in ruleSet.Rules)
        {
            rules.TryAdd(loaded.Rule.Id, (loaded.Rule.Title, loaded.Rule.Level));
        }
        foreach (var loaded in ruleSet.Correlations)
        {
            rules.TryAdd(loaded.Correlation.Id, (loaded.Correlation.Title, loaded.Correlation.Level));
        }
        foreach (var hit in hits)
        {
            var ms = Timestamps.ParseCanonical(hit.Event.Timestamp);
            // A rule removed since has no alert to grow.
            if (rules.TryGetValue(hit.RuleId, out var known))
            {
                var alert = Raise(hit.RuleId, known.Title, known.Level, hit.GroupKey, [hit.Event], 1, ms, ms);
                changed[alert.Alert.Id] = alert;
            }
        }
    }

    /// <summary>Best effort: the position is committed, so forwarded events left behind are skipped, not counted again.</summary>
    private async ValueTask AcknowledgeForwardedAsync(string through, CancellationToken cancellationToken)
    {
        try
        {
            await _shared!.AcknowledgeForwardedAsync(through, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning(e, "Could not trim the forwarded events taken; they are kept until the next commit");
        }
    }

    private void RaiseFirings(Dictionary<string, OpenAlert> changed)
    {
        foreach (var firing in _firings.Where(f => f.Node.RaisesAlerts))
        {
            var c = firing.Node.Correlation;
            var alert = Raise(c.Id, c.Title, c.Level, firing.GroupKey, firing.Events, firing.Count, firing.FirstMs, firing.LastMs);
            changed[alert.Alert.Id] = alert;
        }
    }

    private OpenAlert Raise(string ruleId, string title, string level, string? groupKey, IReadOnlyList<AlertEvent> events, long count, long firstMs, long lastMs)
    {
        var window = (long)_options.SuppressionWindow.TotalMilliseconds;
        var open = OpenOf((ruleId, groupKey));
        var clock = _correlations.Watermark;
        var at = open.FindIndex(o => lastMs >= o.FirstMs - window && firstMs <= o.LastMs + window);
        OpenAlert alert;
        if (at >= 0)
        {
            alert = open[at] = open[at].Add(events, count, firstMs, lastMs, clock);
            _batchUpdated++;
        }
        else
        {
            alert = new OpenAlert(Alert.Raise(ruleId, title, level, groupKey, events, count, firstMs, lastMs), firstMs, lastMs, Math.Max(lastMs, clock));
            open.Add(alert);
            _openChanged = true;
            _batchRaised++;
        }
        return alert;
    }

    private List<OpenAlert> OpenOf((string RuleId, string? GroupKey) key)
    {
        if (!_open.TryGetValue(key, out var open))
        {
            _open[key] = open = [];
        }
        return open;
    }

    /// <summary>
    /// Alerts an analyst closed take no more repeats: the next one opens a new alert. Checked
    /// when the closed epoch moved (one read a batch), so a close on any node counts from the
    /// next batch on.
    /// </summary>
    private async ValueTask ForgetClosedAsync(CancellationToken cancellationToken)
    {
        if (_triage is null || _open.Count == 0 && _closedEpoch >= 0)
        {
            return;
        }
        var epoch = await _triage.ClosedEpochAsync(cancellationToken);
        if (epoch == _closedEpoch)
        {
            return;
        }
        var states = await _triage.GetAsync([.. _open.Values.SelectMany(o => o).Select(o => o.Alert.Id)], cancellationToken);
        foreach (var (key, open) in _open.ToList())
        {
            _openChanged |= open.RemoveAll(o => states.TryGetValue(o.Alert.Id, out var state) && state.Status == AlertStatus.Closed) > 0;
            if (open.Count == 0)
            {
                _open.Remove(key);
            }
        }
        _closedEpoch = epoch;
    }

    /// <summary>
    /// An alert stops taking repeats once the stream clock is a suppression window past its
    /// horizon (its last event, or the clock when it last grew if later): a future-dated event
    /// cannot close every alert early, and a backfill's alert grows while the backfill arrives.
    /// </summary>
    private void CloseSuppression()
    {
        var window = (long)_options.SuppressionWindow.TotalMilliseconds;
        var clock = _correlations.Watermark;
        foreach (var (key, open) in _open.ToList())
        {
            _openChanged |= open.RemoveAll(o => o.Horizon < clock - window) > 0;
            if (open.Count == 0)
            {
                _open.Remove(key);
            }
        }
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

    private static AlertEvent AlertEventOf(EventView view, out long timestampMs)
    {
        string Text(FieldName name) => view.TryGetCanonical(name, out var v) && v.Kind == JsonValueKind.String ? v.Text! : string.Empty;
        var timestamp = Text(CanonicalFields.Timestamp);
        timestampMs = Timestamps.ParseCanonical(timestamp);
        return new AlertEvent(Text(CanonicalFields.Id), timestamp, Text(CanonicalFields.EventType), Text(CanonicalFields.SourceIP));
    }

    /// <summary>An alert still taking repeats, with its event-time bounds as numbers and its horizon in the stream clock.</summary>
    private sealed record OpenAlert(Alert Alert, long FirstMs, long LastMs, long Horizon)
    {
        public static OpenAlert From(Alert alert, long clock)
        {
            var last = Timestamps.ParseCanonical(alert.LastSeen);
            return new(alert, Timestamps.ParseCanonical(alert.FirstSeen), last, Math.Max(last, clock));
        }

        public OpenAlert Add(IReadOnlyList<AlertEvent> events, long count, long firstMs, long lastMs, long clock)
        {
            var first = Math.Min(FirstMs, firstMs);
            var last = Math.Max(LastMs, lastMs);
            return new OpenAlert(Alert with
            {
                Count = Alert.Count + count,
                FirstSeen = Timestamps.ToText(first),
                LastSeen = Timestamps.ToText(last),
                Events = Alert.Events.Count < Alert.MaxEvents ? [.. Alert.Events, .. events.Take(Alert.MaxEvents - Alert.Events.Count)] : Alert.Events,
            }, first, last, Math.Max(Horizon, Math.Max(last, clock)));
        }
    }
}
