using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Hydrant.Detection.Alerts;

/// <summary>
/// Alerts as they fire, for live subscribers (the SSE stream, webhooks, the alert sharing). Each
/// subscriber has a bounded queue; one that cannot keep up loses its oldest alerts rather than
/// slowing detection down. Alerts this node raised are local; alerts other nodes raised (relayed
/// to it, <see cref="IAlertRelay"/>) reach only the subscribers that ask for them, so work that
/// must happen once per alert (a webhook) stays with the node that raised it.
/// </summary>
public sealed class AlertFeed
{
    private const int SubscriberCapacity = 1024;
    private readonly ConcurrentDictionary<Channel<Alert>, bool> _subscribers = new();

    /// <param name="unsubscribe">Ends the subscription.</param>
    /// <param name="withRelayed">Also receive the alerts other nodes raised.</param>
    public ChannelReader<Alert> Subscribe(CancellationToken unsubscribe, bool withRelayed = false)
    {
        var channel = Channel.CreateBounded<Alert>(new BoundedChannelOptions(SubscriberCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _subscribers[channel] = withRelayed;
        unsubscribe.Register(() =>
        {
            _subscribers.TryRemove(channel, out _);
            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    /// <summary>An alert this node raised or updated.</summary>
    public void Publish(Alert alert)
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            subscriber.Writer.TryWrite(alert);
        }
    }

    /// <summary>An alert another node raised or updated.</summary>
    public void PublishRelayed(Alert alert)
    {
        foreach (var (subscriber, withRelayed) in _subscribers)
        {
            if (withRelayed)
            {
                subscriber.Writer.TryWrite(alert);
            }
        }
    }
}
