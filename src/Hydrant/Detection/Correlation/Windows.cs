using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;

namespace Hydrant.Detection.Correlation;

/// <summary>One event in a correlation group's window.</summary>
internal sealed class Hit(long ms, int member, string? value, double number, AlertEvent? e, long horizon, long serial)
{
    public long Ms { get; } = ms;

    /// <summary>The hit's number in its engine, naming it in the committed state.</summary>
    public long Serial { get; } = serial;

    /// <summary>
    /// Until when (in the stream clock) the hit is kept, less the timespan and lateness: its own
    /// time, or the stream clock when it arrived if that is later (an event of an older era,
    /// replayed or backfilled, is kept as long after its arrival as a live one after its time).
    /// </summary>
    public long Horizon { get; } = horizon;

    /// <summary>Which of the correlation's rules it matched (position in its rules list).</summary>
    public int Member { get; } = member;

    public string? Value { get; } = value;
    public double Number { get; } = number;

    /// <summary>The event, until a firing has reported it (then only the aggregates need the hit).</summary>
    public AlertEvent? Event { get; private set; } = e;

    /// <summary>Set once a firing has accounted for it, so later firings of the group count only new events.</summary>
    public bool Reported => Event is null;

    public AlertEvent Report()
    {
        var reported = Event!;
        Event = null;
        return reported;
    }
}

/// <summary>The events of one correlation group, in event-time order, and how many are not reported yet.</summary>
internal sealed class GroupWindow(string key, string[] values)
{
    /// <summary>Judged aligned windows remembered per group, so a straggler cannot have one judged twice.</summary>
    public const int JudgedRemembered = 1024;

    private readonly List<Hit> _hits = [];

    public string Key { get; } = key;
    public string[] Values { get; } = values;
    public IReadOnlyList<Hit> Hits => _hits;
    public int Count => _hits.Count;

    /// <summary>Hits no firing has reported yet.</summary>
    public int Unreported { get; private set; }

    /// <summary>
    /// At most the smallest horizon of the group's hits (long.MaxValue when it has none): exact
    /// after a close, possibly lower after the oldest hits were dropped for room, which only makes
    /// the next close come early (and compute it again).
    /// </summary>
    public long MinHorizon { get; private set; } = long.MaxValue;

    /// <summary>For aligned windows: the start of each open window and the largest horizon of its hits.</summary>
    public SortedDictionary<long, long> OpenWindows { get; } = [];

    /// <summary>For aligned windows: the starts of the windows already judged (the most recent ones).</summary>
    public SortedSet<long> Judged { get; } = [];

    /// <summary>The due time it is queued under (older queue entries for it are stale).</summary>
    public long QueuedDue { get; set; } = long.MinValue;

    /// <summary>Read from a whole group an earlier build saved: all of it is written again, in pieces.</summary>
    public bool Converted { get; init; }

    /// <summary>Hits added or reported since the state was last taken, to be written.</summary>
    public HashSet<Hit> Changed { get; } = [];

    /// <summary>Hits removed since the state was last taken, to be deleted.</summary>
    public List<long> Removed { get; } = [];

    /// <summary>Inserts in time order, after events of the same time; returns the position.</summary>
    public int Insert(Hit hit)
    {
        // The first position whose time is later: a binary search, since events arrive in any order.
        int at = 0, end = _hits.Count;
        while (at < end)
        {
            var mid = (at + end) >>> 1;
            if (_hits[mid].Ms <= hit.Ms)
            {
                at = mid + 1;
            }
            else
            {
                end = mid;
            }
        }
        _hits.Insert(at, hit);
        Changed.Add(hit);
        Unreported += hit.Reported ? 0 : 1;
        MinHorizon = Math.Min(MinHorizon, hit.Horizon);
        return at;
    }

    /// <summary>Removes the first <paramref name="count"/> hits and returns them.</summary>
    public List<Hit> RemoveFirst(int count)
    {
        var removed = _hits.GetRange(0, count);
        _hits.RemoveRange(0, count);
        Unreported -= removed.Count(h => !h.Reported);
        Forget(removed);
        if (_hits.Count == 0)
        {
            MinHorizon = long.MaxValue;
        }
        return removed;
    }

    /// <summary>Removes the hits whose horizon is before <paramref name="horizon"/>, wherever they are in time.</summary>
    public void RemoveHorizonsBefore(long horizon)
    {
        var removed = _hits.RemoveAll(h =>
        {
            if (h.Horizon >= horizon)
            {
                return false;
            }
            Unreported -= h.Reported ? 0 : 1;
            Changed.Remove(h);
            Removed.Add(h.Serial);
            return true;
        });
        if (removed > 0)
        {
            MinHorizon = _hits.Count == 0 ? long.MaxValue : _hits.Min(h => h.Horizon);
        }
    }

    /// <summary>Removes and returns the hits of [<paramref name="fromMs"/>, <paramref name="toMs"/>).</summary>
    public List<Hit> RemoveRange(long fromMs, long toMs)
    {
        var first = 0;
        while (first < _hits.Count && _hits[first].Ms < fromMs)
        {
            first++;
        }
        var end = first;
        while (end < _hits.Count && _hits[end].Ms < toMs)
        {
            end++;
        }
        var removed = _hits.GetRange(first, end - first);
        _hits.RemoveRange(first, end - first);
        Unreported -= removed.Count(h => !h.Reported);
        Forget(removed);
        MinHorizon = _hits.Count == 0 ? long.MaxValue : _hits.Min(h => h.Horizon);
        return removed;
    }

    private void Forget(List<Hit> removed)
    {
        foreach (var hit in removed)
        {
            Changed.Remove(hit);
            Removed.Add(hit.Serial);
        }
    }

    /// <summary>Remembers a judged window, forgetting the oldest past <see cref="JudgedRemembered"/>.</summary>
    public void MarkJudged(long start)
    {
        Judged.Add(start);
        if (Judged.Count > JudgedRemembered)
        {
            Judged.Remove(Judged.Min);
        }
    }

    /// <summary>Reports the unreported hits of positions <paramref name="from"/>..<paramref name="to"/>, oldest first; from the newest end, stopping once every unreported hit of the group is found.</summary>
    public List<(long Ms, AlertEvent Event)> Report(int from, int to)
    {
        var reported = new List<(long, AlertEvent)>();
        for (var i = to; i >= from && reported.Count < Unreported; i--)
        {
            if (!_hits[i].Reported)
            {
                reported.Add((_hits[i].Ms, _hits[i].Report()));
                Changed.Add(_hits[i]);
            }
        }
        Unreported -= reported.Count;
        reported.Reverse();
        return reported;
    }
}

/// <summary>How each correlation type reads a window of events.</summary>
internal static class Windows
{
    /// <summary>The start of the epoch-aligned window of length <paramref name="span"/> holding <paramref name="ms"/>.</summary>
    public static long AlignedStart(long ms, long span) => ms - (((ms % span) + span) % span);

    /// <summary>
    /// A timespan-long window (inclusive at both ends, starting at one of the group's events) that
    /// holds the event at <paramref name="at"/> and satisfies the correlation: its first and last
    /// positions, or null when there is none.
    /// </summary>
    public static (int From, int To)? FindSliding(CorrelationNode node, IReadOnlyList<Hit> hits, int at)
    {
        var correlation = node.Correlation;
        var span = (long)correlation.Timespan.TotalMilliseconds;
        var t = hits[at].Ms;
        var lo = FirstAtOrAfter(hits, t - span);
        switch (correlation.Type)
        {
            case CorrelationType.TemporalOrdered:
                return FindOrdered(node, hits, lo, t, span);
            case CorrelationType.EventCount:
                // Early firing means lower bounds only: when all of [t - span, t + span] is too few,
                // so is every window in it, which is the common answer for a small group.
                if (!correlation.Condition.All(b => b.Holds(FirstAtOrAfter(hits, t + span + 1) - lo)))
                {
                    return null;
                }
                for (var i = lo; i < hits.Count && hits[i].Ms <= t; i++)
                {
                    var last = FirstAtOrAfter(hits, hits[i].Ms + span + 1) - 1;
                    if (correlation.Condition.All(b => b.Holds(last - i + 1)))
                    {
                        return (i, last);
                    }
                }
                return null;
            default:
                // Every window holding t lies inside [t - span, t + span]; the aggregates that
                // only grow with more events cannot hold in any of them if they fail on all of it.
                var superset = new Aggregate(node);
                var end = FirstAtOrAfter(hits, t + span + 1);
                for (var k = lo; k < end; k++)
                {
                    superset.Add(hits[k]);
                }
                if (!superset.Holds() && superset.OnlyGrows)
                {
                    return null;
                }
                var aggregate = new Aggregate(node);
                var j = lo - 1;
                for (var i = lo; i < hits.Count && hits[i].Ms <= t; i++)
                {
                    if (i > lo)
                    {
                        aggregate.Remove(hits[i - 1]);
                    }
                    while (j + 1 < hits.Count && hits[j + 1].Ms <= hits[i].Ms + span)
                    {
                        aggregate.Add(hits[++j]);
                    }
                    if (aggregate.Holds())
                    {
                        return (i, j);
                    }
                }
                return null;
        }
    }

    /// <summary>The verdict on a closed aligned window: the events of each firing (one per rare value for value_percentile).</summary>
    public static IEnumerable<(List<Hit> Hits, string? ValueKey)> Judge(CorrelationNode node, List<Hit> window)
    {
        var correlation = node.Correlation;
        if (correlation.Type == CorrelationType.ValuePercentile)
        {
            // The share (in percent) of the group's events in the window that carry each value.
            foreach (var byValue in window.GroupBy(h => h.Value ?? string.Empty, StringComparer.Ordinal))
            {
                var share = 100.0 * byValue.Count() / window.Count;
                if (correlation.Condition.All(b => b.Holds(share)))
                {
                    yield return ([.. byValue], correlation.Field + "=" + byValue.Key);
                }
            }
            yield break;
        }
        var aggregate = new Aggregate(node);
        foreach (var hit in window)
        {
            aggregate.Add(hit);
        }
        if (aggregate.Holds())
        {
            yield return (window, null);
        }
    }

    /// <summary>Each rule in order within the timespan: from each first-rule event, the earliest completion.</summary>
    private static (int From, int To)? FindOrdered(CorrelationNode node, IReadOnlyList<Hit> hits, int lo, long t, long span)
    {
        var rules = node.Members.Count;
        for (var i = lo; i < hits.Count && hits[i].Ms <= t; i++)
        {
            if (hits[i].Member != 0)
            {
                continue;
            }
            var end = hits[i].Ms + span;
            var next = 1;
            for (var k = i + 1; k < hits.Count && hits[k].Ms <= end && next < rules; k++)
            {
                if (hits[k].Member == next)
                {
                    next++;
                }
            }
            if (next == rules)
            {
                return (i, FirstAtOrAfter(hits, end + 1) - 1);
            }
        }
        return null;
    }

    private static int FirstAtOrAfter(IReadOnlyList<Hit> hits, long ms)
    {
        int lo = 0, hi = hits.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (hits[mid].Ms < ms)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    /// <summary>The running aggregate of a window, for every type but temporal_ordered and value_percentile.</summary>
    private sealed class Aggregate(CorrelationNode node)
    {
        private readonly SigmaCorrelation _correlation = node.Correlation;
        private readonly Dictionary<string, int> _values = new(StringComparer.Ordinal);
        private readonly int[] _members = new int[node.Members.Count];
        private int _count;
        private int _distinctMembers;
        private double _sum;

        private bool _negative;

        /// <summary>True when adding events can only raise the aggregate (a sum of negative numbers can fall).</summary>
        public bool OnlyGrows => _correlation.Type != CorrelationType.ValueSum || !_negative;

        public void Add(Hit hit)
        {
            _count++;
            _sum += hit.Number;
            _negative |= hit.Number < 0;
            if (hit.Value is { } value)
            {
                _values[value] = _values.GetValueOrDefault(value) + 1;
            }
            if (_members[hit.Member]++ == 0)
            {
                _distinctMembers++;
            }
        }

        public void Remove(Hit hit)
        {
            _count--;
            _sum -= hit.Number;
            if (hit.Value is { } value && --_values[value] == 0)
            {
                _values.Remove(value);
            }
            if (--_members[hit.Member] == 0)
            {
                _distinctMembers--;
            }
        }

        public bool Holds()
        {
            if (_count == 0)
            {
                return false;
            }
            if (_correlation.Type == CorrelationType.Temporal && _correlation.Condition.Count == 0)
            {
                return _distinctMembers == _members.Length;
            }
            double value = _correlation.Type switch
            {
                CorrelationType.ValueCount => _values.Count,
                CorrelationType.ValueSum => _sum,
                CorrelationType.ValueAvg => _sum / _count,
                CorrelationType.Temporal => _distinctMembers,
                _ => _count,
            };
            return _correlation.Condition.All(b => b.Holds(value));
        }
    }
}
