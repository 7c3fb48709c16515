using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Events;
using Microsoft.Extensions.Logging;

namespace Hydrant.Detection;

/// <summary>Scale-out: what a node takes from, and gives to, the other nodes through the shared detection state.</summary>
public sealed partial class Detector
{
    /// <summary>
    /// The rules of the batch's single-event alerts this node owns: all, alone; with other nodes,
    /// those it holds (repeats that reach another node are that node's alert while it holds it).
    /// </summary>
    private async ValueTask<HashSet<string>> ClaimAsync(EventMatch?[] matches, CancellationToken cancellationToken)
    {
        var owned = new HashSet<string>(StringComparer.Ordinal);
        if (_raises.Count == 0)
        {
            return owned;
        }
        var rules = _raises.Select(r => r.Rule.Id).Distinct(StringComparer.Ordinal).ToList();
        var held = await _shared.ClaimAsync(
            [.. rules.Select(id => (id, (string?)null, (IReadOnlyList<AlertEvent>)[.. _raises.Where(r => r.Rule.Id == id).Select(r => matches[r.Event]!.Behind!)]))],
            cancellationToken);
        owned.UnionWith(rules.Where((_, i) => held[i]));
        return owned;
    }

    /// <summary>Hits other nodes forwarded for groups this node keeps, in event time; a correlation removed or redefined since has no group to add to.</summary>
    private static List<CorrelationHit> ArrivedWindowHits(IReadOnlyList<ForwardedWindowHit> forwarded, CorrelationPlan plan)
    {
        if (forwarded.Count == 0)
        {
            return [];
        }
        var nodes = plan.Nodes.ToDictionary(n => n.Correlation.Id, StringComparer.Ordinal);
        return [.. forwarded
            .Select(f => nodes.TryGetValue(f.CorrelationId, out var node) && f.Member < node.Members.Count && !node.KeptInSharedState
                ? new CorrelationHit(new Subscription(node, f.Member), f.GroupValues, Timestamps.ParseCanonical(f.Event.Timestamp), f.Value, f.Number, f.Event)
                : null)
            .OfType<CorrelationHit>()
            .OrderBy(h => h.TimestampMs)];
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
            await _shared.AcknowledgeForwardedAsync(through, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning(e, "Could not trim the forwarded events taken; they are kept until the next commit");
        }
    }
}
