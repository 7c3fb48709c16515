using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Hydrant.Detection.Alerts;

/// <summary>
/// Alerts as they fire, for live subscribers (the SSE stream, webhooks, the alert sharing). Each
/// subscriber has a bounded queue of alerts, each queued once, as it is now: a version of an alert
/// already waiting replaces it in its place, so an alert that grows with every detector batch
/// takes one place, and cannot push a new alert out. A subscriber that falls behind by more than
/// the capacity in distinct alerts loses its oldest rather than slowing detection down. Alerts this
/// node raised are local; alerts other nodes raised (relayed to it, <see cref="IAlertRelay"/>)
/// reach only the subscribers that ask for them, so work that must happen once per alert (a
/// webhook) stays with the node that raised it.
/// </summary>
public sealed class AlertFeed
{
    /// <summary>Distinct alerts a subscriber's queue holds.</summary>
    public const int SubscriberCapacity = 1024;

    private readonly ConcurrentDictionary<Subscription, bool> _subscribers = new();

    /// <param name="unsubscribe">Ends the subscription.</param>
    /// <param name="withRelayed">Also receive the alerts other nodes raised.</param>
    public ChannelReader<Alert> Subscribe(CancellationToken unsubscribe, bool withRelayed = false)
    {
        var subscription = new Subscription(SubscriberCapacity);
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

    /// <summary>One subscriber's queue: alert ids in the order they were first queued, each with its latest version.</summary>
    private sealed class Subscription(int capacity) : ChannelReader<Alert>
    {
        private readonly Lock _lock = new();
        private readonly Queue<string> _order = new();
        private readonly Dictionary<string, Alert> _latest = new(StringComparer.Ordinal);
        private TaskCompletionSource? _waiting;
        private bool _completed;

        public override bool CanCount => true;

        public override int Count
        {
            get
            {
                lock (_lock)
                {
                    return _order.Count;
                }
            }
        }

        public void Offer(Alert alert)
        {
            TaskCompletionSource? wake;
            lock (_lock)
            {
                if (_completed)
                {
                    return;
                }
                if (!_latest.ContainsKey(alert.Id))
                {
                    if (_order.Count == capacity)
                    {
                        _latest.Remove(_order.Dequeue());
                    }
                    _order.Enqueue(alert.Id);
                }
                _latest[alert.Id] = alert;
                wake = _waiting;
                _waiting = null;
            }
            wake?.TrySetResult();
        }

        public void Complete()
        {
            TaskCompletionSource? wake;
            lock (_lock)
            {
                _completed = true;
                wake = _waiting;
                _waiting = null;
            }
            wake?.TrySetResult();
        }

        public override bool TryRead(out Alert item)
        {
            lock (_lock)
            {
                if (_order.TryDequeue(out var id))
                {
                    _latest.Remove(id, out item!);
                    return true;
                }
            }
            item = null!;
            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            TaskCompletionSource waiting;
            lock (_lock)
            {
                if (_order.Count > 0)
                {
                    return ValueTask.FromResult(true);
                }
                if (_completed)
                {
                    return ValueTask.FromResult(false);
                }
                waiting = _waiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            return WaitAsync(waiting, cancellationToken);
        }

        private async ValueTask<bool> WaitAsync(TaskCompletionSource waiting, CancellationToken cancellationToken)
        {
            await waiting.Task.WaitAsync(cancellationToken);
            return await WaitToReadAsync(cancellationToken);
        }
    }
}
