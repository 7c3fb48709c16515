using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Hydrant.Storage;

namespace Hydrant.Detection.Alerts;

/// <summary>
/// Alerts as they fire, for live subscribers (the SSE stream, webhooks, the alert sharing). Each
/// subscriber has a bounded queue of alerts, each queued once, as it is now: a version of an alert
/// already waiting replaces it in its place, so an alert that grows with every detector batch
/// takes one place, and cannot push a new alert out. A subscriber that falls behind by more than
/// the capacity in distinct alerts loses its oldest rather than slowing detection down (counted, and
/// told to the subscriber: <see cref="AlertSubscription.TakeDropped"/>). Alerts this
/// node raised are local; alerts other nodes raised (relayed to it, <see cref="IAlertRelay"/>)
/// reach only the subscribers that ask for them, so work that must happen once per alert (a
/// webhook) stays with the node that raised it.
/// </summary>
public sealed class AlertFeed
{
    /// <summary>Distinct alerts a subscriber's queue holds.</summary>
    public const int SubscriberCapacity = 1024;

    private readonly ConcurrentDictionary<AlertSubscription, bool> _subscribers = new();
    private long _dropped;

    public AlertFeed(IMeterFactory? meterFactory = null)
    {
        meterFactory?.Create(IngestStats.MeterName).CreateObservableCounter("alert_feed_dropped", () => Dropped,
            description: "Alerts a live subscriber (the SSE stream, a webhook) fell too far behind to receive");
    }

    /// <summary>Alerts dropped from subscribers' queues since the start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <param name="unsubscribe">Ends the subscription.</param>
    /// <param name="withRelayed">Also receive the alerts other nodes raised.</param>
    public AlertSubscription Subscribe(CancellationToken unsubscribe, bool withRelayed = false)
    {
        var subscription = new AlertSubscription(SubscriberCapacity, () => Interlocked.Increment(ref _dropped));
        _subscribers[subscription] = withRelayed;
        unsubscribe.Register(() =>
        {
            _subscribers.TryRemove(subscription, out _);
            subscription.Complete();
        });
        return subscription;
    }

    /// <summary>An alert this node raised or updated.</summary>
    public void Publish(Alert alert)
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            subscriber.Offer(alert);
        }
    }

    /// <summary>An alert another node raised or updated.</summary>
    public void PublishRelayed(Alert alert)
    {
        foreach (var (subscriber, withRelayed) in _subscribers)
        {
            if (withRelayed)
            {
                subscriber.Offer(alert);
            }
        }
    }
}
