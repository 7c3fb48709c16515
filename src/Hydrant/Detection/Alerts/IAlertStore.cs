namespace Hydrant.Detection.Alerts;

/// <summary>
/// One commit of the detector: the alerts it raised or updated (by id), the alerts still open for
/// suppression, its correlation window state that changed (key to bytes, null to delete), and the
/// spool position all of it reflects.
/// </summary>
public sealed record DetectorCommit(IReadOnlyCollection<Alert> Changed, IReadOnlyCollection<Alert> Open, IReadOnlyDictionary<string, byte[]?> State, long Checkpoint);

/// <summary>
/// Where alerts live, with the detector's checkpoint and window state beside them: a commit writes
/// the alerts it raised or updated, its correlation windows and the spool position they reflect in
/// one atomic write, so after a crash the detector resumes exactly where its last alerts left off
/// (none lost, none doubled, no event counted twice in a window).
/// </summary>
public interface IAlertStore
{
    /// <summary>The detector's position: one past the last spool entry whose alerts are stored.</summary>
    ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Alerts still open for suppression (their window had not closed at the last commit).</summary>
    ValueTask<IReadOnlyList<Alert>> LoadOpenAsync(CancellationToken cancellationToken);

    /// <summary>The correlation window state as of the checkpoint.</summary>
    ValueTask<IReadOnlyDictionary<string, byte[]>> LoadStateAsync(CancellationToken cancellationToken);

    /// <summary>Stores everything in the commit atomically.</summary>
    ValueTask CommitAsync(DetectorCommit commit, CancellationToken cancellationToken);

    ValueTask<AlertPage> QueryAsync(AlertQuery query, CancellationToken cancellationToken);
}
