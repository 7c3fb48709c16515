using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;

namespace Hydrant.Detection;

/// <summary>
/// Detection state shared by every node of a deployment: correlation windows, so a pattern whose
/// events reach different nodes is still seen, and alert ownership, so one rule's alert for one
/// group is raised by one node only while it is suppressed. With Redis, windows that fire as they
/// fill (<see cref="CorrelationNode.KeptInSharedState"/>) are kept in the shared state itself; the
/// rest are kept in the <see cref="CorrelationEngine"/> of one node per group (per chain for
/// chained correlations, <see cref="CorrelationNode.Keeping"/>), to which the other nodes forward
/// their hits. A node alone (<see cref="SingleNodeDetectionState"/>) keeps every window in its own
/// engine and owns every alert: the detector takes the same path either way.
/// </summary>
public interface ISharedDetectionState
{
    /// <summary>
    /// Adds the hits routed <see cref="HitRoute.Shared"/> to their groups' shared windows. For each hit whose window then satisfies its
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
    /// Where each hit is counted: in this node's engine (<see cref="HitRoute.Here"/>: no other
    /// node keeps the hit's group, or this node already does), in the keeper's engine
    /// (<see cref="HitRoute.Forwarded"/>, sent to it once: a replayed hit is not forwarded again),
    /// or in the shared state itself (<see cref="HitRoute.Shared"/>: the caller passes it to
    /// <see cref="ObserveAsync"/>).
    /// </summary>
    ValueTask<IReadOnlyList<HitRoute>> RouteAsync(IReadOnlyList<CorrelationHit> hits, CancellationToken cancellationToken);

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
}

/// <summary>Where a correlation hit is counted (<see cref="ISharedDetectionState.RouteAsync"/>).</summary>
public enum HitRoute
{
    /// <summary>In this node's correlation engine.</summary>
    Here,

    /// <summary>In the engine of the node that keeps the hit's group, to which it was forwarded.</summary>
    Forwarded,

    /// <summary>In the shared state's own window (<see cref="ISharedDetectionState.ObserveAsync"/>).</summary>
    Shared,
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
