using System.Buffers.Binary;
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
/// aligned to the epoch (<c>[k*timespan, (k+1)*timespan)</c>) when the window closes.</item>
/// </list>
/// Time (docs/architecture.md, "Correlation time"): the stream clock is the newest event time seen,
/// never ahead of the wall clock, so one future-dated event cannot move it. A hit is kept while the
/// clock is within timespan + allowed lateness of its horizon: its own time, or the clock when it
/// arrived if that is later, so events of an older era (a replay, a backfill) correlate with each
/// other as on a fresh server, whatever else the group holds. An aligned window is judged once the
/// clock is the allowed lateness past both its end and the arrival of its last event; a hit for a
/// window already judged is late, not counted (<see cref="LateHits"/>, per rule in
/// <see cref="LateByCorrelation"/>). The state is not thread-safe: one detector (or one hunt's
/// ordered stage) owns it. Changed groups are handed out with <see cref="TakeChanges"/> for the
/// caller to commit with its checkpoint.
/// </summary>
public sealed class CorrelationEngine(CorrelationOptions options)
{
    private const string WatermarkKey = "watermark";

    /// <summary>State keys of single hits: "h\n{correlation}\n{serial, 16 hex}\n{group}" (a group key may hold any text).</summary>
    private const string HitPrefix = "h\n";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly long _latenessMs = (long)options.AllowedLateness.TotalMilliseconds;
    private readonly TimeProvider? _wall = options.WallClock;
    private readonly Dictionary<string, CorrelationState> _states = new(StringComparer.Ordinal);
    // Ordered by due time, then by correlation and group, so groups due together close in the same
    // order whatever the queue's history (a restored engine fires as an uninterrupted one).
    private readonly PriorityQueue<(CorrelationState State, GroupWindow Group), (long Due, string Correlation, string Group)> _due = new(DueOrder.Instance);
    private readonly HashSet<(string Correlation, string Group)> _dirty = [];
    private readonly Dictionary<string, long> _lateByCorrelation = new(StringComparer.Ordinal);

    /// <summary>Committed state keys to delete at the next <see cref="TakeChanges"/> (hits of groups dropped whole).</summary>
    private readonly List<string> _deleted = [];
    private long _nextSerial;
    private CorrelationPlan _plan = CorrelationPlan.Empty;
    private bool _watermarkDirty;
    private int _groupCount;

    /// <summary>The stream clock (ms since the epoch): the newest event time seen, never ahead of the wall clock.</summary>
    public long Watermark { get; private set; } = long.MinValue;

    /// <summary>Events that arrived for an aligned window already judged, and were not counted.</summary>
    public long LateHits { get; private set; }

    /// <summary><see cref="LateHits"/> per correlation id.</summary>
    public IReadOnlyDictionary<string, long> LateByCorrelation => _lateByCorrelation;

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
            foreach (var (key, group) in state.Groups)
            {
                _dirty.Add((id, key));
                _deleted.AddRange(group.Hits.Select(h => HitKey(id, key, h.Serial)).Concat(group.Removed.Select(serial => HitKey(id, key, serial))));
            }
        }
    }

    /// <summary>Adds an event's hit to its group's windows; firings (chained ones included) are added to <paramref name="firings"/>.</summary>
    public void Add(CorrelationHit hit, List<CorrelationFiring> firings)
    {
        var node = hit.Target.Node;
        var state = StateOf(node);
        var key = GroupKey(node.Correlation, hit.GroupValues) ?? string.Empty;
        state.Groups.TryGetValue(key, out var group);
        var windowStart = node.Correlation.FiresEarly ? 0 : Windows.AlignedStart(hit.TimestampMs, state.SpanMs);
        if (group is not null && !node.Correlation.FiresEarly && group.Judged.Contains(windowStart))
        {
            LateHits++;
            _lateByCorrelation[node.Correlation.Id] = _lateByCorrelation.GetValueOrDefault(node.Correlation.Id) + 1;
            return;
        }
        if (group is null)
        {
            state.Groups[key] = group = new GroupWindow(key, hit.GroupValues);
            Volatile.Write(ref _groupCount, _groupCount + 1);
        }
        var horizon = Math.Max(hit.TimestampMs, Watermark);
        var added = new Hit(hit.TimestampMs, hit.Target.Member, hit.Value, hit.Number, hit.Event, horizon, _nextSerial++);
        var at = group.Insert(added);
        if (!node.Correlation.FiresEarly)
        {
            group.OpenWindows[windowStart] = Math.Max(group.OpenWindows.GetValueOrDefault(windowStart, long.MinValue), horizon);
        }
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

    /// <summary>
    /// Moves the stream clock to <paramref name="timestampMs"/> (if it is newer, and never past the
    /// wall clock), closing the windows that are due.
    /// </summary>
    public void Advance(long timestampMs, List<CorrelationFiring> firings)
    {
        if (_wall is not null)
        {
            timestampMs = Math.Min(timestampMs, _wall.GetUtcNow().ToUnixTimeMilliseconds());
        }
        AdvanceTo(timestampMs, firings);
    }

    /// <summary>Closes every window now, whatever its time (the end of a hunt).</summary>
    public void Flush(List<CorrelationFiring> firings) => AdvanceTo(long.MaxValue - 1, firings);

    private void AdvanceTo(long timestampMs, List<CorrelationFiring> firings)
    {
        if (timestampMs <= Watermark)
        {
            return;
        }
        Watermark = timestampMs;
        _watermarkDirty = true;
        while (_due.TryPeek(out var entry, out var priority) && priority.Due <= Watermark)
        {
            _due.Dequeue();
            var (state, group) = entry;
            if (group.QueuedDue != priority.Due
                || !ReferenceEquals(state.Groups.GetValueOrDefault(group.Key), group)
                || !ReferenceEquals(_states.GetValueOrDefault(state.Node.Correlation.Id), state))
            {
                continue; // superseded by a later schedule, or dropped
            }
            group.QueuedDue = long.MinValue;
            Close(state, group, firings);
        }
    }

    /// <summary>
    /// State written since the last call: key to bytes, or null for state to delete. Each changed
    /// group writes itself (values and judged windows) and only the hits it added, reported or
    /// removed since: the cost of a batch is what it changed, not the size of the groups it touched.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]?> TakeChanges()
    {
        var changes = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        foreach (var key in _deleted)
        {
            changes[key] = null;
        }
        _deleted.Clear();
        foreach (var (id, key) in _dirty)
        {
            if (!_states.TryGetValue(id, out var state) || !state.Groups.TryGetValue(key, out var group))
            {
                changes[id + "\n" + key] = null;
                continue;
            }
            changes[id + "\n" + key] = GroupCodec.Encode(state.Definition, group);
            foreach (var hit in group.Changed)
            {
                changes[HitKey(id, key, hit.Serial)] = GroupCodec.Encode(hit);
            }
            foreach (var serial in group.Removed)
            {
                changes[HitKey(id, key, serial)] = null;
            }
            group.Changed.Clear();
            group.Removed.Clear();
        }
        _dirty.Clear();
        if (_watermarkDirty)
        {
            var clock = new byte[16];
            BinaryPrimitives.WriteInt64LittleEndian(clock, Watermark);
            BinaryPrimitives.WriteInt64LittleEndian(clock.AsSpan(8), _nextSerial);
            changes[WatermarkKey] = clock;
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
        _deleted.Clear();
        _watermarkDirty = false;
        Watermark = long.MinValue;
        _nextSerial = 0;
        if (saved.TryGetValue(WatermarkKey, out var clock))
        {
            Watermark = BinaryPrimitives.ReadInt64LittleEndian(clock);
            _nextSerial = clock.Length >= 16 ? BinaryPrimitives.ReadInt64LittleEndian(clock.AsSpan(8)) : 0;
        }
        Volatile.Write(ref _groupCount, 0);
        var nodes = _plan.Nodes.ToDictionary(n => n.Correlation.Id, StringComparer.Ordinal);
        var hits = new List<(string Id, string Key, long Serial, byte[] Bytes, string Name)>();
        foreach (var (name, bytes) in saved)
        {
            if (name == WatermarkKey)
            {
                continue;
            }
            if (name.StartsWith(HitPrefix, StringComparison.Ordinal))
            {
                var rest = name[HitPrefix.Length..];
                var idEnd = rest.IndexOf('\n', StringComparison.Ordinal);
                var serial = long.Parse(rest.AsSpan(idEnd + 1, 16), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                hits.Add((rest[..idEnd], rest[(idEnd + 18)..], serial, bytes, name));
                continue;
            }
            var split = name.IndexOf('\n', StringComparison.Ordinal);
            var (id, key) = (name[..split], name[(split + 1)..]);
            var group = GroupCodec.DecodeGroup(bytes) is { } stored ? (stored.Definition, new GroupWindow(key, stored.Values), stored.Judged) : FromJson(bytes, key);
            if (group is not { } g || !nodes.TryGetValue(id, out var node) || node.Correlation.Definition != g.Definition)
            {
                _dirty.Add((id, key));
                continue;
            }
            foreach (var start in g.Judged)
            {
                g.Item2.MarkJudged(start);
            }
            if (g.Item2.Converted)
            {
                _dirty.Add((id, key));
            }
            var state = StateOf(node);
            if (state.Groups.TryAdd(key, g.Item2))
            {
                Volatile.Write(ref _groupCount, _groupCount + 1);
            }
        }
        foreach (var (id, key, serial, bytes, name) in hits)
        {
            if (!_states.TryGetValue(id, out var state) || !state.Groups.TryGetValue(key, out var group) || GroupCodec.DecodeHit(bytes, serial) is not { } hit)
            {
                _deleted.Add(name);
                continue;
            }
            group.Insert(hit);
            _nextSerial = Math.Max(_nextSerial, serial + 1);
        }
        foreach (var state in _states.Values)
        {
            foreach (var group in state.Groups.Values)
            {
                // What was read is what is stored, except groups an earlier build saved whole: written again in pieces.
                if (!group.Converted)
                {
                    group.Changed.Clear();
                }
                if (!state.Node.Correlation.FiresEarly)
                {
                    foreach (var hit in group.Hits)
                    {
                        var start = Windows.AlignedStart(hit.Ms, state.SpanMs);
                        group.OpenWindows[start] = Math.Max(group.OpenWindows.GetValueOrDefault(start, long.MinValue), hit.Horizon);
                    }
                }
                Schedule(state, group);
            }
        }
    }

    /// <summary>A group an earlier build saved whole, as JSON, hits included (their horizon: their own time).</summary>
    private (string Definition, GroupWindow, IReadOnlyList<long> Judged)? FromJson(byte[] bytes, string key)
    {
        if (JsonSerializer.Deserialize<StoredGroup>(bytes, Json) is not { } stored)
        {
            return null;
        }
        var group = new GroupWindow(key, stored.Values) { Converted = true };
        foreach (var h in stored.Hits)
        {
            group.Insert(new Hit(h.Ms, h.Member, h.Value, h.Number, h.Event, h.Ms, _nextSerial++));
        }
        return (stored.Definition, group, []);
    }

    private static string HitKey(string correlation, string group, long serial) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{HitPrefix}{correlation}\n{serial:x16}\n{group}");

    private CorrelationState StateOf(CorrelationNode node)
    {
        if (!_states.TryGetValue(node.Correlation.Id, out var state))
        {
            _states[node.Correlation.Id] = state = new CorrelationState(node);
        }
        return state;
    }

    /// <summary>
    /// When the group next needs attention: its earliest hit leaving every window it could share
    /// with a hit still to come (sliding), or its first open window being judged (aligned); a group
    /// with only judged windows to remember goes once they are too old for stragglers to matter.
    /// </summary>
    private void Schedule(CorrelationState state, GroupWindow group)
    {
        var span = state.SpanMs;
        long due;
        if (state.Node.Correlation.FiresEarly)
        {
            if (group.Count == 0)
            {
                return;
            }
            due = group.MinHorizon + span + _latenessMs + 1;
        }
        else if (group.OpenWindows.Count > 0)
        {
            due = group.OpenWindows.Min(w => Math.Max(w.Key + span, w.Value) + _latenessMs);
        }
        else if (group.Judged.Count > 0)
        {
            due = group.Judged.Max + span + _latenessMs + Math.Max(span, JudgedMemoryMs);
        }
        else
        {
            return;
        }
        if (due != group.QueuedDue)
        {
            group.QueuedDue = due;
            _due.Enqueue((state, group), (due, state.Node.Correlation.Id, group.Key));
        }
    }

    /// <summary>How long (stream clock) a group keeps the memory of its judged windows after the last one, at least.</summary>
    private const long JudgedMemoryMs = 3_600_000;

    private void Close(CorrelationState state, GroupWindow group, List<CorrelationFiring> firings)
    {
        var span = state.SpanMs;
        var node = state.Node;
        if (node.Correlation.FiresEarly)
        {
            // No window that a hit still to come could share reaches a hit past its horizon.
            group.RemoveHorizonsBefore(Watermark - _latenessMs - span);
        }
        else
        {
            foreach (var (start, horizon) in group.OpenWindows.ToList())
            {
                if (Math.Max(start + span, horizon) + _latenessMs > Watermark)
                {
                    continue;
                }
                group.OpenWindows.Remove(start);
                group.MarkJudged(start);
                var window = group.RemoveRange(start, start + span);
                foreach (var (hits, valueKey) in Windows.Judge(node, window))
                {
                    Fire(state, group, [.. hits.Where(h => !h.Reported).Select(h => (h.Ms, h.Report()))], valueKey, firings);
                }
            }
            if (group.OpenWindows.Count == 0 && group.Judged.Count > 0 && group.Judged.Max + span + _latenessMs + Math.Max(span, JudgedMemoryMs) <= Watermark)
            {
                group.Judged.Clear();
            }
        }
        _dirty.Add((node.Correlation.Id, group.Key));
        if (group.Count == 0 && group.OpenWindows.Count == 0 && group.Judged.Count == 0)
        {
            _deleted.AddRange(group.Removed.Select(serial => HitKey(node.Correlation.Id, group.Key, serial)));
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

    private sealed class DueOrder : IComparer<(long Due, string Correlation, string Group)>
    {
        public static readonly DueOrder Instance = new();

        public int Compare((long Due, string Correlation, string Group) x, (long Due, string Correlation, string Group) y) =>
            x.Due != y.Due ? x.Due.CompareTo(y.Due)
            : string.CompareOrdinal(x.Correlation, y.Correlation) is var byCorrelation and not 0 ? byCorrelation
            : string.CompareOrdinal(x.Group, y.Group);
    }

    private sealed class CorrelationState(CorrelationNode node)
    {
        public CorrelationNode Node { get; set; } = node;
        public string Definition { get; } = node.Correlation.Definition;
        public long SpanMs => (long)Node.Correlation.Timespan.TotalMilliseconds;
        public Dictionary<string, GroupWindow> Groups { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A hit as an earlier build stored it (JSON); <c>Event</c> is null once reported.</summary>
    private sealed record StoredHit(long Ms, int Member, string? Value, double Number, AlertEvent? Event);

    /// <summary>A group as an earlier build stored it, whole (JSON), read once after an upgrade.</summary>
    private sealed record StoredGroup(string Definition, string[] Values, List<StoredHit> Hits);
}
