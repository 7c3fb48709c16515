using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Hydrant.Detection.Alerts;

/// <summary>
/// Alerts as they fire, for live subscribers (the SSE stream). Each subscriber has a bounded
/// queue; one that cannot keep up loses its oldest alerts rather than slowing detection down.
/// </summary>
public sealed class AlertFeed
{
    private const int SubscriberCapacity = 1024;
    private readonly ConcurrentDictionary<Channel<Alert>, byte> _subscribers = new();

    public ChannelReader<Alert> Subscribe(CancellationToken unsubscribe)
    {
        var channel = Channel.CreateBounded<Alert>(new BoundedChannelOptions(SubscriberCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _subscribers[channel] = 0;
        unsubscribe.Register(() =>
        {
            _subscribers.TryRemove(channel, out _);
            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    public void Publish(Alert alert)
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            subscriber.Writer.TryWrite(alert);
        }
    }
}
