using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Events;
using Microsoft.Extensions.Logging;

namespace Hydrant.Detection;

/// <summary>Scale-out: the hits and alerts a node shares with the others through the shared detection state.</summary>
public sealed partial class Detector
{
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
            .Select(f => nodes.TryGetValue(f.CorrelationId, out var node) && f.Member < node.Members.Count && !node.KeptInSharedState
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
}
