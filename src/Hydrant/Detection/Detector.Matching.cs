using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Spool;

namespace Hydrant.Detection;

/// <summary>Matching: the rules run on every event of a batch, on every core; what they match is applied after, in order.</summary>
public sealed partial class Detector
{
    /// <summary>What the rules made of one event: the event as alerts show it, the rules it matched and its correlation hits (or why it could not be read).</summary>
    private sealed record EventMatch(AlertEvent? Behind, long TimestampMs, List<SigmaRule> Rules, List<CorrelationHit> Hits, Exception? Error = null);

    /// <summary>Batches smaller than this are matched on the consumer's own thread: spreading them costs more than it saves.</summary>
    private const int ParallelFrom = 64;

    /// <summary>
    /// Runs the rules on every event of the batch, on every core (matching reads only the rule set
    /// and the event, as hunt's workers do); null for an entry without an event. What the matches
    /// change (alerts, windows) is applied after, in spool order, on one thread.
    /// </summary>
    private static EventMatch?[] MatchAll(IReadOnlyList<SpoolEntry> entries, RuleSet ruleSet)
    {
        var matches = new EventMatch?[entries.Count];
        if (entries.Count < ParallelFrom || Environment.ProcessorCount == 1)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                matches[i] = MatchOne(entries[i], ruleSet);
            }
        }
        else
        {
            Parallel.For(0, entries.Count, i => matches[i] = MatchOne(entries[i], ruleSet));
        }
        return matches;
    }

    [ThreadStatic]
    private static List<SigmaRule>? _threadMatched;

    [ThreadStatic]
    private static List<CorrelationHit>? _threadHits;

    /// <summary>The envelope ingest found, and the rules run on the event's bytes (no copies for events no rule fires on).</summary>
    private static EventMatch? MatchOne(SpoolEntry entry, RuleSet ruleSet)
    {
        if (entry.Json.IsEmpty)
        {
            return null;
        }
        long timestampMs = 0;
        try
        {
            var envelope = entry.ReadEnvelope();
            timestampMs = envelope.TimestampMs;
            using var view = new EventView(entry.Json);
            var (matched, hits) = (_threadMatched ??= [], _threadHits ??= []);
            matched.Clear();
            hits.Clear();
            var behind = ruleSet.Evaluate(view, envelope, matched, hits);
            return behind is null ? new EventMatch(null, timestampMs, [], []) : new EventMatch(behind, timestampMs, [.. matched], [.. hits]);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new EventMatch(null, timestampMs, [], [], e);
        }
    }

    /// <summary>
    /// Applies the batch's matches in spool order: each event's single-event alerts (those this
    /// node owns), then its correlation hits counted here, with the hits other nodes forwarded for
    /// groups this node keeps slotted in by event time; then the hits the shared state counts.
    /// </summary>
    private async ValueTask ApplyAsync(EventMatch?[] matches, CorrelationPlan plan, ForwardedHits forwarded, Dictionary<string, OpenAlert> changed, CancellationToken cancellationToken)
    {
        _batchHits.Clear();
        _batchHitEvents.Clear();
        _raises.Clear();
        _sharedHits.Clear();
        for (var e = 0; e < matches.Length; e++)
        {
            if (matches[e] is not { } match)
            {
                continue;
            }
            foreach (var rule in match.Rules)
            {
                if (plan.RaisesAlerts(rule))
                {
                    _raises.Add((e, rule));
                }
            }
            foreach (var matched in match.Hits)
            {
                _batchHits.Add(matched);
                _batchHitEvents.Add(e);
            }
        }
        var routes = await _shared.RouteAsync(_batchHits, cancellationToken);
        var owned = await ClaimAsync(matches, cancellationToken);
        var arrived = ArrivedWindowHits(forwarded.WindowHits, plan);
        var (next, hit, raise) = (0, 0, 0);
        for (var e = 0; e < matches.Length; e++)
        {
            if (matches[e] is not { } match)
            {
                continue;
            }
            for (; next < arrived.Count && arrived[next].TimestampMs <= match.TimestampMs; next++)
            {
                Observe([arrived[next]], arrived[next].TimestampMs, changed);
            }
            for (; raise < _raises.Count && _raises[raise].Event == e; raise++)
            {
                var rule = _raises[raise].Rule;
                if (owned.Contains(rule.Id))
                {
                    var alert = Raise(rule.Id, rule.Title, rule.Level, groupKey: null, [match.Behind!], 1, match.TimestampMs, match.TimestampMs);
                    changed[alert.Alert.Id] = alert;
                }
            }
            _hits.Clear();
            for (; hit < _batchHits.Count && _batchHitEvents[hit] == e; hit++)
            {
                switch (routes[hit])
                {
                    case HitRoute.Here:
                        _hits.Add(_batchHits[hit]);
                        break;
                    case HitRoute.Shared:
                        _sharedHits.Add(_batchHits[hit]);
                        break;
                }
            }
            // Every event moves the stream clock, also one no correlation counts.
            Observe(_hits, match.TimestampMs, changed);
        }
        for (; next < arrived.Count; next++)
        {
            Observe([arrived[next]], arrived[next].TimestampMs, changed);
        }
        if (_sharedHits.Count > 0)
        {
            _firings.Clear();
            await _shared.ObserveAsync(_sharedHits, _correlations.Watermark, _checkpoint, _firings, cancellationToken);
            RaiseFirings(changed);
        }
    }

    private void Observe(IReadOnlyList<CorrelationHit> hits, long timestampMs, Dictionary<string, OpenAlert> changed)
    {
        _firings.Clear();
        _correlations.Observe(hits, timestampMs, _firings);
        RaiseFirings(changed);
    }
}
