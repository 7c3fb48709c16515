using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;

namespace Hydrant.Detection;

/// <summary>
/// Detection state shared by every node of a deployment (Redis): correlation windows, so a
/// pattern whose events reach different nodes is still seen, and alert ownership, so one rule's
/// alert for one group is raised by one node only while it is suppressed. Shared windows are
/// those of the correlations <see cref="CanShare"/> accepts; the rest stay in each node's
/// <see cref="CorrelationEngine"/>.
/// </summary>
public interface ISharedDetectionState
{
    /// <summary>
    /// Adds the hits to their groups' shared windows. For each hit whose window then satisfies its
    /// correlation, a firing is added when this node owns the group's alert: it took it first
    /// (accounting for the whole window), or took it before (accounting for this event); a hit for
    /// an alert another node owns is forwarded to that node. Adding the same hit again (a replay
    /// after a crash) counts it once in the window.
    /// </summary>
    ValueTask ObserveAsync(IReadOnlyList<CorrelationHit> hits, List<CorrelationFiring> firings, CancellationToken cancellationToken);

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
    /// other correlation. Windows judged when they close stay in each node's engine.
    /// </summary>
    static bool CanShare(CorrelationNode node) =>
        node.Correlation.FiresEarly
        && node.Parents.Count == 0
        && node.Members.All(m => m is SigmaRule);
}

/// <summary>An event another node saw for an alert (rule or correlation id, group) this node owns.</summary>
public sealed record ForwardedHit(string RuleId, string? GroupKey, AlertEvent Event);

/// <summary>Forwarded events, and the position after them (null when there never were any).</summary>
public sealed record ForwardedHits(IReadOnlyList<ForwardedHit> Hits, string? Position);
