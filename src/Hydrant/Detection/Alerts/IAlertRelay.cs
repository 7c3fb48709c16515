namespace Hydrant.Detection.Alerts;

/// <summary>
/// Carries alerts between the nodes of one deployment as they fire, so a live stream on any node
/// shows every node's alerts. At most once and in real time: the shared alert store, not the
/// relay, is where an alert is sure to be found.
/// </summary>
public interface IAlertRelay
{
    /// <summary>Sends an alert this node raised or updated to the other nodes.</summary>
    ValueTask SendAsync(Alert alert, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="received"/> for every alert another node sends, until disposed.</summary>
    ValueTask<IAsyncDisposable> ReceiveAsync(Action<Alert> received, CancellationToken cancellationToken);
}
