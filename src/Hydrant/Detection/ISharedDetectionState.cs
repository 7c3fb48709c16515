using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;

namespace Hydrant.Detection;

/// <summary>
/// Detection state shared by every node of a deployment (Redis): correlation windows, so a
/// pattern whose events reach different nodes is still seen, and alert ownership, so one rule's
/// alert for one group is raised by one node only while it is suppressed. Windows that fire as
/// they fill (<see cref="CanShare"/>) are kept in the shared state itself; the rest
/// (<see cref="RoutesToOwner"/>) are kept in the <see cref="CorrelationEngine"/> of one node per
/// group (per chain for chained correlations), to which the other nodes forward their hits.
/// </summary>
public interface ISharedDetectionState
{
    /// <summary>
    /// Adds the hits to their groups' shared windows. For each hit whose window then satisfies its
    /// correlation, a firing is added when this node owns the group's alert: it took it first
    /// (accounting for the whole window), or took it before (accounting for this event); a hit for
    /// an alert another node owns is forwarded to that node. Adding the same hit again (a replay
    /// after a crash) counts it once in the window. A hit is kept while this node's stream clock is
    /// within timespan + lateness of the hit's horizon, as in the engine. <paramref name="attempt"/>
    /// names the batch (the detector's committed position when it began): what an attempt that was
    /// not committed reported is reported again when the batch is replayed, and only then.
    /// </summary>
    ValueTask ObserveAsync(IReadOnlyList<CorrelationHit> hits, long streamClock, long attempt, List<CorrelationFiring> firings, CancellationToken cancellationToken);

    /// <summary>
    /// For each hit of a correlation judged when its window closes, whether this node keeps the
    /// hit's group (it was the first to see the group, or is already its keeper): then the caller
    /// adds the hit to its own engine. Otherwise the hit is forwarded to the keeper, once (a
    /// replayed hit is not forwarded again).
    /// </summary>
    ValueTask<IReadOnlyList<bool>> RouteAsync(IReadOnlyList<CorrelationHit> hits, CancellationToken cancellationToken);

    /// <summary>
    /// Events other nodes saw for alerts this node owns (a correlation's hit in a satisfied window,
    /// or a single-event rule's match), forwarded to it, after <paramref name="after"/> (a position
    /// this method returned, or null for the first): each is one more event of its alert. The
    /// position after them is for the caller to store with its commit, so each is taken once, and
    /// then to acknowledge.
    /// </summary>
    ValueTask<ForwardedHits> ReceiveForwardedAsync(string? after, CancellationToken cancellationToken);

    /// <summary>Forgets forwarded hits up to and including <paramref name="through"/>, once they are committed.</summary>
    ValueTask AcknowledgeForwardedAsync(string through, CancellationToken cancellationToken);

    /// <summary>
    /// For each alert (rule id, group key), whether this node owns it now: it took it (no node
    /// held it) or already held it; holding it again extends the suppression window. The events
    /// of an alert another node owns are forwarded to that node.
    /// </summary>
    ValueTask<IReadOnlyList<bool>> ClaimAsync(IReadOnlyList<(string RuleId, string? GroupKey, IReadOnlyList<AlertEvent> Events)> alerts, CancellationToken cancellationToken);

    /// <summary>
    /// The correlations whose windows fire as they fill (event_count, value_count, value_sum and
    /// temporal with lower bounds only; temporal_ordered), fed by detection rules and feeding no
    /// other correlation: their windows are kept in the shared state itself.
    /// </summary>
    static bool CanShare(CorrelationNode node) => node.Correlation.FiresEarly && !InChain(node);

    /// <summary>
    /// The others, kept by one node: those judged when an aligned window closes (upper bounds,
    /// value_avg, value_percentile), and every correlation of a chain (a correlation of
    /// correlations), whose inner firings feed the outer ones inside one engine.
    /// </summary>
    static bool RoutesToOwner(CorrelationNode node) => !CanShare(node);

    /// <summary>
    /// What one node keeps for a routed hit, and how long it may need it: the hit's own group for a
    /// correlation on its own; for a correlation in a chain, the whole chain (named by its root),
    /// so the one engine sees every hit the chain relates.
    /// </summary>
    static (string Key, TimeSpan Span) KeepingOf(CorrelationHit hit)
    {
        var node = hit.Target.Node;
        return InChain(node)
            ? (RootOf(node) + ":*", SpanOf(node))
            : (node.Correlation.Id + ":" + CorrelationEngine.GroupKey(node.Correlation, hit.GroupValues), node.Correlation.Timespan);
    }

    private static bool InChain(CorrelationNode node) => node.Parents.Count > 0 || node.Members.Any(m => m is not SigmaRule);

    private static string RootOf(CorrelationNode node) =>
        node.Parents.Count == 0 ? node.Correlation.Id : node.Parents.Select(p => RootOf(p.Node)).Min(StringComparer.Ordinal)!;

    private static TimeSpan SpanOf(CorrelationNode node) =>
        node.Parents.Aggregate(node.Correlation.Timespan, (longest, parent) => TimeSpan.FromTicks(Math.Max(longest.Ticks, SpanOf(parent.Node).Ticks)));
}

/// <summary>An event another node saw for an alert (rule or correlation id, group) this node owns.</summary>
public sealed record ForwardedHit(string RuleId, string? GroupKey, AlertEvent Event);

/// <summary>
/// A hit another node saw for a correlation group this node keeps: the correlation, which of its
/// rules matched (position), the group's values, the condition field's value, and the event.
/// </summary>
public sealed record ForwardedWindowHit(string CorrelationId, int Member, string[] GroupValues, string? Value, double Number, AlertEvent Event);

/// <summary>
/// Forwarded events for alerts this node owns, hits for groups it keeps, and the position after
/// them (null when there never were any).
/// </summary>
public sealed record ForwardedHits(IReadOnlyList<ForwardedHit> Hits, IReadOnlyList<ForwardedWindowHit> WindowHits, string? Position);
