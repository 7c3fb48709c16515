using Hydrant.Detection.Alerts;
using Hydrant.Events;

namespace Hydrant.Detection;

/// <summary>Alerts: raised, grown under suppression while open, and closed by time or by an analyst.</summary>
public sealed partial class Detector
{
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
