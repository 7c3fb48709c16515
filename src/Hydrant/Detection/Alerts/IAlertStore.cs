namespace Hydrant.Detection.Alerts;

/// <summary>
/// One commit of the detector: the alerts it raised or updated (by id), the alerts still open for
/// suppression (null when they are the ones the last commit stored), its correlation window state
/// that changed (key to bytes, null to delete), and the spool position all of it reflects.
/// </summary>
public sealed record DetectorCommit(IReadOnlyCollection<Alert> Changed, IReadOnlyCollection<Alert>? Open, IReadOnlyDictionary<string, byte[]?> State, long Checkpoint)
{
    /// <summary>With state shared between nodes: the position in the events other nodes forwarded that this batch took them through (null: unchanged).</summary>
    public string? ForwardedPosition { get; init; }
}

/// <summary>Stored alerts as <c>GET /v1/alerts</c> lists them: newest first, filtered, in pages.</summary>
public interface IAlertView
{
    ValueTask<AlertPage> QueryAsync(AlertQuery query, CancellationToken cancellationToken);

    /// <summary>One alert as stored now, or null.</summary>
    ValueTask<Alert?> GetAsync(string id, CancellationToken cancellationToken);
}

/// <summary>
/// Where a node's detector keeps its alerts, with its checkpoint and window state beside them: a
/// commit writes the alerts it raised or updated, its correlation windows and the spool position
/// they reflect in one atomic write, so after a crash the detector resumes exactly where its last
/// alerts left off (none lost, none doubled, no event counted twice in a window).
/// <para>
/// When the node's alerts are also handed on (to the shared alert store, <see cref="ISharedAlertStore"/>,
/// and to the analytics store), the commit also notes which alerts it changed, in an outbox each
/// reader (<see cref="AlertOutboxReaders"/>) reads and acknowledges on its own, so an alert
/// committed just before a crash is still handed on after it.
/// </para>
/// </summary>
public interface IAlertStore : IAlertView
{
    /// <summary>The detector's position: one past the last spool entry whose alerts are stored.</summary>
    ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Alerts still open for suppression (their window had not closed at the last commit).</summary>
    ValueTask<IReadOnlyList<Alert>> LoadOpenAsync(CancellationToken cancellationToken);

    /// <summary>The correlation window state as of the checkpoint.</summary>
    ValueTask<IReadOnlyDictionary<string, byte[]>> LoadStateAsync(CancellationToken cancellationToken);

    /// <summary>The last committed <see cref="DetectorCommit.ForwardedPosition"/>, or null when none was.</summary>
    ValueTask<string?> LoadForwardedPositionAsync(CancellationToken cancellationToken);

    /// <summary>Stores everything in the commit atomically.</summary>
    ValueTask CommitAsync(DetectorCommit commit, CancellationToken cancellationToken);

    /// <summary>
    /// The alerts changed by the oldest commits <paramref name="reader"/> has not acknowledged, as
    /// they are now (each once), up to about <paramref name="maxAlerts"/>; empty when there are none.
    /// </summary>
    ValueTask<AlertOutbox> ReadOutboxAsync(string reader, int maxAlerts, CancellationToken cancellationToken);

    /// <summary>Records that <paramref name="reader"/> handed on what <paramref name="outbox"/> held; what every reader has taken is forgotten.</summary>
    ValueTask AcknowledgeOutboxAsync(string reader, AlertOutbox outbox, CancellationToken cancellationToken);
}

/// <summary>Who reads the alert outbox.</summary>
public static class AlertOutboxReaders
{
    /// <summary>The hand-over to the shared alert store (scale-out).</summary>
    public const string Shared = "shared";

    /// <summary>The copy into the analytics store, for reports and SQL.</summary>
    public const string Analytics = "analytics";
}

/// <summary>Alerts to hand on, and the last outbox entry (a commit that changed alerts) whose changes they include.</summary>
public sealed record AlertOutbox(IReadOnlyList<Alert> Alerts, long Through)
{
    public static AlertOutbox Empty { get; } = new([], -1);

    public bool IsEmpty => Through < 0;
}

/// <summary>
/// Alerts of every node in one place (scale-out), so any node lists them all. Each node hands over
/// what its detector committed; a put replaces the alert with the same id (an alert grows under
/// suppression on the node that raised it, and only there).
/// </summary>
public interface ISharedAlertStore : IAlertView
{
    ValueTask PutAsync(IReadOnlyCollection<Alert> alerts, CancellationToken cancellationToken);
}
