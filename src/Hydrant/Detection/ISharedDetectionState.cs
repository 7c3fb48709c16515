namespace Hydrant.Detection.Correlation;

/// <summary>
/// Correlation windows and alert ownership shared by every node of a deployment (Redis), so a
/// pattern whose events reach different nodes is still seen, and raised by one node only. Shared
/// are the correlations that <see cref="CanShare"/> accepts; the rest stay in each node's
/// <see cref="CorrelationEngine"/>.
/// </summary>
public interface ISharedCorrelations
{
    /// <summary>
    /// Adds the hits to their groups' shared windows. For each hit whose window then satisfies its
    /// correlation, a firing is added when this node owns the group's alert: it took it first
    /// (accounting for the whole window), or took it before (accounting for this event). Adding
    /// the same hit again (a replay after a crash) counts it once.
    /// </summary>
    ValueTask ObserveAsync(IReadOnlyList<CorrelationHit> hits, List<CorrelationFiring> firings, CancellationToken cancellationToken);

    /// <summary>
    /// event_count and value_count with lower bounds only (windows that fire as they fill), fed by
    /// detection rules and feeding no other correlation.
    /// </summary>
    static bool CanShare(CorrelationNode node) =>
        node.Correlation.Type is Sigma.CorrelationType.EventCount or Sigma.CorrelationType.ValueCount
        && node.Correlation.FiresEarly
        && node.Parents.Count == 0
        && node.Members.All(m => m is Sigma.SigmaRule);
}
