namespace Hydrant.Detection.Alerts;

/// <summary>
/// Where alerts live, with the detector's checkpoint beside them: a commit writes the alerts it
/// raised or updated and the spool position they reflect in one atomic write, so after a crash
/// the detector resumes exactly where its last alerts left off (none lost, none doubled).
/// </summary>
public interface IAlertStore
{
    /// <summary>The detector's position: one past the last spool entry whose alerts are stored.</summary>
    ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Alerts still open for suppression (their window had not closed at the last commit).</summary>
    ValueTask<IReadOnlyList<Alert>> LoadOpenAsync(CancellationToken cancellationToken);

    /// <summary>Stores the alerts (new or updated, by id), the set of open alerts, and the checkpoint, atomically.</summary>
    ValueTask CommitAsync(IReadOnlyCollection<Alert> changed, IReadOnlyCollection<Alert> open, long checkpoint, CancellationToken cancellationToken);

    ValueTask<AlertPage> QueryAsync(AlertQuery query, CancellationToken cancellationToken);
}
