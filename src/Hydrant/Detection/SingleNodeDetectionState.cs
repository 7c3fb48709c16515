using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;

namespace Hydrant.Detection;

/// <summary>
/// The detection state of a node that shares with no other (the embedded deployment, or
/// Cache:Kind=memory): every correlation window is kept in the node's own engine, whose state is
/// committed with its alerts, and every alert is the node's own. Nothing is forwarded to it.
/// </summary>
public sealed class SingleNodeDetectionState : ISharedDetectionState
{
    public ValueTask<IReadOnlyList<HitRoute>> RouteAsync(IReadOnlyList<CorrelationHit> hits, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<HitRoute>>(hits.Count == 0 ? [] : Enumerable.Repeat(HitRoute.Here, hits.Count).ToArray());

    /// <exception cref="ArgumentException">A hit was given: none is ever routed <see cref="HitRoute.Shared"/> here.</exception>
    public ValueTask ObserveAsync(IReadOnlyList<CorrelationHit> hits, long streamClock, long attempt, List<CorrelationFiring> firings, CancellationToken cancellationToken) =>
        hits.Count == 0 ? ValueTask.CompletedTask : throw new ArgumentException("a single node routes every hit to its own engine", nameof(hits));

    public ValueTask<IReadOnlyList<bool>> ClaimAsync(IReadOnlyList<(string RuleId, string? GroupKey, IReadOnlyList<AlertEvent> Events)> alerts, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<bool>>(alerts.Count == 0 ? [] : Enumerable.Repeat(true, alerts.Count).ToArray());

    public ValueTask<ForwardedHits> ReceiveForwardedAsync(string? after, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ForwardedHits([], [], after));

    public ValueTask AcknowledgeForwardedAsync(string through, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
