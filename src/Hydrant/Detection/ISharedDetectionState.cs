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
    /// (accounting for the whole window), or took it before (accounting for this event). Adding
    /// the same hit again (a replay after a crash) counts it once.
    /// </summary>
    ValueTask ObserveAsync(IReadOnlyList<CorrelationHit> hits, List<CorrelationFiring> firings, CancellationToken cancellationToken);

    /// <summary>
    /// For each alert (rule id, group key), whether this node owns it now: it took it (no node
    /// held it) or already held it; holding it again extends the suppression window.
    /// </summary>
    ValueTask<IReadOnlyList<bool>> ClaimAsync(IReadOnlyList<(string RuleId, string? GroupKey)> alerts, CancellationToken cancellationToken);

    /// <summary>
    /// event_count and value_count with lower bounds only (windows that fire as they fill), fed by
    /// detection rules and feeding no other correlation.
    /// </summary>
    static bool CanShare(CorrelationNode node) =>
        node.Correlation.Type is CorrelationType.EventCount or CorrelationType.ValueCount
        && node.Correlation.FiresEarly
        && node.Parents.Count == 0
        && node.Members.All(m => m is SigmaRule);
}
