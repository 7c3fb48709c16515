using System.Text.Json;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Fields;
using Hydrant.Spool;

namespace Hydrant.Detection;

/// <summary>Matching: the rules run on every event of a batch, on every core; what they match is applied after, in order.</summary>
public sealed partial class Detector
{
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
            ruleSet.Match(view, rules);
            var hits = new List<CorrelationHit>();
            foreach (var rule in rules)
            {
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
            if (hit.Target.Node.KeptInSharedState)
            {
                _sharedHits.Add(hit);
            }
            else
            {
                _routedHits.Add((_eventTimes.Count, hit));
            }
        }
        _eventTimes.Add(timestampMs);
    }

    private static AlertEvent AlertEventOf(EventView view, out long timestampMs)
    {
        string Text(FieldName name) => view.TryGetCanonical(name, out var v) && v.Kind == JsonValueKind.String ? v.Text! : string.Empty;
        var timestamp = Text(CanonicalFields.Timestamp);
        timestampMs = Timestamps.ParseCanonical(timestamp);
        return new AlertEvent(Text(CanonicalFields.Id), timestamp, Text(CanonicalFields.EventType), Text(CanonicalFields.SourceIP));
    }
}
