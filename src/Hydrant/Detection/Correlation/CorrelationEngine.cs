using System.Text.Json;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;

namespace Hydrant.Detection.Correlation;

/// <summary>
/// The windows of every correlation, per group, in event time. Two kinds of window:
/// <list type="bullet">
/// <item>Correlations whose condition can only become true as events arrive (event_count,
/// value_count and value_sum with gt/gte bounds; temporal; temporal_ordered) use sliding windows:
/// they fire as soon as some timespan-long window of the group's events that contains the new
/// event satisfies them. Later events of the same group that keep it satisfied fire again, each
/// accounting only for events not reported before, so suppression grows one alert.</item>
/// <item>The others (upper bounds, eq, neq, value_avg, value_percentile) are judged on windows
/// aligned to the epoch (<c>[k*timespan, (k+1)*timespan)</c>) when the window closes: once the
/// newest event seen is past its end by the allowed lateness.</item>
/// </list>
/// An event up to the allowed lateness behind the newest one is counted in its windows; an older
/// one is dropped and counted in <see cref="LateHits"/>. The state is not thread-safe: one
/// detector (or one hunt's ordered stage) owns it. Changed groups are handed out with
/// <see cref="TakeChanges"/> for the caller to commit with its checkpoint.
/// </summary>
public sealed class CorrelationEngine(CorrelationOptions options)
{
    private const string WatermarkKey = "watermark";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly long _latenessMs = (long)options.AllowedLateness.TotalMilliseconds;
    private readonly Dictionary<string, CorrelationState> _states = new(StringComparer.Ordinal);
    private readonly PriorityQueue<(CorrelationState State, GroupWindow Group), long> _due = new();
    private readonly HashSet<(string Correlation, string Group)> _dirty = [];
    private CorrelationPlan _plan = CorrelationPlan.Empty;
    private bool _watermarkDirty;
    private int _groupCount;

    /// <summary>The newest event time seen (ms since the epoch); windows close relative to it.</summary>
    public long Watermark { get; private set; } = long.MinValue;

    /// <summary>Events that arrived later than the allowed lateness and were not counted.</summary>
    public long LateHits { get; private set; }

    /// <summary>Events dropped from a group that held <see cref="CorrelationOptions.MaxEventsPerGroup"/>.</summary>
    public long EvictedHits { get; private set; }

    /// <summary>Groups with events in a window (safe to read from any thread).</summary>
    public int OpenGroups => Volatile.Read(ref _groupCount);

    /// <summary>Switches to another rule set's correlations; windows of correlations gone or redefined are dropped.</summary>
    public void Use(CorrelationPlan plan)
    {
        if (ReferenceEquals(plan, _plan))
        {
            return;
        }
        _plan = plan;
        var nodes = plan.Nodes.ToDictionary(n => n.Correlation.Id, StringComparer.Ordinal);
        foreach (var (id, state) in _states.ToList())
        {
            if (nodes.TryGetValue(id, out var node) && node.Correlation.Definition == state.Definition)
            {
                state.Node = node;
                continue;
            }
            _states.Remove(id);
            Volatile.Write(ref _groupCount, _groupCount - state.Groups.Count);
            foreach (var key in state.Groups.Keys)
            {
                _dirty.Add((id, key));
            }
        }
    }

    /// <summary>Adds an event's hit to its group's windows; firings (chained ones included) are added to <paramref name="firings"/>.</summary>
    public void Add(CorrelationHit hit, List<CorrelationFiring> firings)
    {
        if (Watermark != long.MinValue && hit.TimestampMs < Watermark - _latenessMs)
        {
            LateHits++;
            return;
        }
        var node = hit.Target.Node;
        var state = StateOf(node);
        var key = GroupKey(node.Correlation, hit.GroupValues) ?? string.Empty;
        if (!state.Groups.TryGetValue(key, out var group))
        {
            state.Groups[key] = group = new GroupWindow(key, hit.GroupValues);
            Volatile.Write(ref _groupCount, _groupCount + 1);
        }
        var added = new Hit(hit.TimestampMs, hit.Target.Member, hit.Value, hit.Number, hit.Event);
        var at = group.Insert(added);
        if (group.Count > options.MaxEventsPerGroup)
        {
            group.RemoveFirst(1);
            at--;
            EvictedHits++;
        }
        _dirty.Add((node.Correlation.Id, key));
        Schedule(state, group);
        if (node.Correlation.FiresEarly && at >= 0 && Windows.FindSliding(node, group.Hits, at) is { } window)
        {
            Fire(state, group, group.Report(window.From, window.To), null, firings);
        }
    }

    /// <summary>One event's hits, then event time moved to it: the order a stream of events is fed in.</summary>
    public void Observe(IReadOnlyList<CorrelationHit> hits, long timestampMs, List<CorrelationFiring> firings)
    {
        foreach (var hit in hits)
        {
            Add(hit, firings);
        }
        Advance(timestampMs, firings);
    }

    /// <summary>Moves event time forward to <paramref name="timestampMs"/> (if it is newer), closing the windows that are due.</summary>
    public void Advance(long timestampMs, List<CorrelationFiring> firings)
    {
        if (timestampMs <= Watermark)
        {
            return;
        }
        Watermark = timestampMs;
        _watermarkDirty = true;
        while (_due.TryPeek(out var entry, out var due) && due <= Watermark)
        {
            _due.Dequeue();
            var (state, group) = entry;
            if (group.QueuedDue != due
                || !ReferenceEquals(state.Groups.GetValueOrDefault(group.Key), group)
                || !ReferenceEquals(_states.GetValueOrDefault(state.Node.Correlation.Id), state))
            {
                continue; // superseded by a later schedule, or dropped
            }
            group.QueuedDue = long.MinValue;
            Close(state, group, firings);
        }
    }

    /// <summary>Closes every window now, whatever its time (the end of a hunt).</summary>
    public void Flush(List<CorrelationFiring> firings) => Advance(long.MaxValue - 1, firings);

    /// <summary>State written since the last call: key to bytes, or null for state to delete.</summary>
    public IReadOnlyDictionary<string, byte[]?> TakeChanges()
    {
        var changes = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        foreach (var (id, key) in _dirty)
        {
            changes[id + "\n" + key] = _states.TryGetValue(id, out var state) && state.Groups.TryGetValue(key, out var group)
                ? JsonSerializer.SerializeToUtf8Bytes(StoredGroup.From(state.Definition, group), Json)
                : null;
        }
        _dirty.Clear();
        if (_watermarkDirty)
        {
            changes[WatermarkKey] = BitConverter.GetBytes(Watermark);
            _watermarkDirty = false;
        }
        return changes;
    }

    /// <summary>
    /// Replaces the state with one saved by <see cref="TakeChanges"/> (call <see cref="Use"/> first):
    /// what was observed since that save is forgotten; state of other correlations is marked for deletion.
    /// </summary>
    public void Restore(IReadOnlyDictionary<string, byte[]> saved)
    {
        _states.Clear();
        _due.Clear();
        _dirty.Clear();
        _watermarkDirty = false;
        Watermark = long.MinValue;
        Volatile.Write(ref _groupCount, 0);
        var nodes = _plan.Nodes.ToDictionary(n => n.Correlation.Id, StringComparer.Ordinal);
        foreach (var (name, bytes) in saved)
        {
            if (name == WatermarkKey)
            {
                Watermark = BitConverter.ToInt64(bytes);
                continue;
            }
            var split = name.IndexOf('\n', StringComparison.Ordinal);
            var (id, key) = (name[..split], name[(split + 1)..]);
            var stored = JsonSerializer.Deserialize<StoredGroup>(bytes, Json);
            if (stored is null || !nodes.TryGetValue(id, out var node) || node.Correlation.Definition != stored.Definition)
            {
                _dirty.Add((id, key));
                continue;
            }
            var state = StateOf(node);
            var group = stored.ToGroup(key);
            if (state.Groups.TryAdd(key, group))
            {
                Volatile.Write(ref _groupCount, _groupCount + 1);
            }
            Schedule(state, group);
        }
    }

    private CorrelationState StateOf(CorrelationNode node)
    {
        if (!_states.TryGetValue(node.Correlation.Id, out var state))
        {
            _states[node.Correlation.Id] = state = new CorrelationState(node);
        }
        return state;
    }

    /// <summary>When the group next needs attention: its oldest event leaving every window, or its first aligned window closing.</summary>
    private void Schedule(CorrelationState state, GroupWindow group)
    {
        if (group.Count == 0)
        {
            return;
        }
        var span = state.SpanMs;
        var oldest = group.Hits[0].Ms;
        // A sliding window's oldest event is needed while an on-time event could still share a
        // window with it (up to watermark = oldest + span + lateness); an aligned window closes
        // once no on-time event can fall in it.
        var due = state.Node.Correlation.FiresEarly
            ? oldest + span + _latenessMs + 1
            : Windows.AlignedStart(oldest, span) + span + _latenessMs;
        if (due != group.QueuedDue)
        {
            group.QueuedDue = due;
            _due.Enqueue((state, group), due);
        }
    }

    private void Close(CorrelationState state, GroupWindow group, List<CorrelationFiring> firings)
    {
        var span = state.SpanMs;
        var node = state.Node;
        if (node.Correlation.FiresEarly)
        {
            // No window that is still open reaches back past this.
            group.RemoveOlderThan(Watermark - _latenessMs - span);
        }
        else
        {
            while (group.Count > 0)
            {
                var start = Windows.AlignedStart(group.Hits[0].Ms, span);
                if (start + span + _latenessMs > Watermark)
                {
                    break;
                }
                var count = 0;
                while (count < group.Count && group.Hits[count].Ms < start + span)
                {
                    count++;
                }
                var window = group.RemoveFirst(count);
                foreach (var (hits, valueKey) in Windows.Judge(node, window))
                {
                    Fire(state, group, [.. hits.Where(h => !h.Reported).Select(h => (h.Ms, h.Report()))], valueKey, firings);
                }
            }
        }
        _dirty.Add((node.Correlation.Id, group.Key));
        if (group.Count == 0)
        {
            state.Groups.Remove(group.Key);
            Volatile.Write(ref _groupCount, _groupCount - 1);
        }
        else
        {
            Schedule(state, group);
        }
    }

    /// <summary>Raises a firing for the events it newly reports (none: nothing to say) and feeds the correlations chained to it.</summary>
    private void Fire(CorrelationState state, GroupWindow group, List<(long Ms, AlertEvent Event)> reported, string? valueKey, List<CorrelationFiring> firings)
    {
        if (reported.Count == 0)
        {
            return;
        }
        var node = state.Node;
        var correlation = node.Correlation;
        var groupKey = GroupKey(correlation, group.Values);
        if (valueKey is not null)
        {
            groupKey = groupKey is null ? valueKey : groupKey + ", " + valueKey;
        }
        var first = reported.Min(h => h.Ms);
        var last = reported.Max(h => h.Ms);
        firings.Add(new CorrelationFiring(node, groupKey, [.. reported.Take(Alert.MaxEvents).Select(h => h.Event)], reported.Count, first, last));

        // A chained correlation sees this firing as one event, carrying this group's values.
        var trigger = reported.MaxBy(h => h.Ms);
        foreach (var parent in node.Parents)
        {
            var outer = parent.Node.Correlation;
            var values = outer.GroupBy.Select(f => Carried(correlation, group.Values, outer.FieldFor(f, correlation))).ToArray();
            string? value = null;
            var number = 0.0;
            if (outer.Field is { } field)
            {
                value = Carried(correlation, group.Values, outer.FieldFor(field, correlation));
                if (outer.Type is CorrelationType.ValueSum or CorrelationType.ValueAvg
                    && !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out number))
                {
                    continue;
                }
            }
            Add(new CorrelationHit(parent, values, last, value, number, trigger.Event), firings);
        }
    }

    /// <summary>A group value of a correlation by group-by name (the plan made sure it groups by it).</summary>
    private static string Carried(SigmaCorrelation correlation, string[] values, string field)
    {
        var index = correlation.GroupBy.ToList().IndexOf(field);
        return index >= 0 ? values[index] : string.Empty;
    }

    /// <summary>"field=value, field=value" in group-by order; null without group-by.</summary>
    /// <summary>How a group is named in its alerts: "field=value, ..."; null without group-by.</summary>
    public static string? GroupKey(SigmaCorrelation correlation, string[] values) =>
        values.Length == 0 ? null : string.Join(", ", correlation.GroupBy.Select((f, i) => f + "=" + values[i]));

    private sealed class CorrelationState(CorrelationNode node)
    {
        public CorrelationNode Node { get; set; } = node;
        public string Definition { get; } = node.Correlation.Definition;
        public long SpanMs => (long)Node.Correlation.Timespan.TotalMilliseconds;
        public Dictionary<string, GroupWindow> Groups { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A hit as stored; <c>Event</c> is null once reported.</summary>
    private sealed record StoredHit(long Ms, int Member, string? Value, double Number, AlertEvent? Event);

    private sealed record StoredGroup(string Definition, string[] Values, List<StoredHit> Hits)
    {
        public static StoredGroup From(string definition, GroupWindow group) =>
            new(definition, group.Values, [.. group.Hits.Select(h => new StoredHit(h.Ms, h.Member, h.Value, h.Number, h.Event))]);

        public GroupWindow ToGroup(string key)
        {
            var group = new GroupWindow(key, Values);
            foreach (var h in Hits)
            {
                group.Insert(new Hit(h.Ms, h.Member, h.Value, h.Number, h.Event));
            }
            return group;
        }
    }
}
