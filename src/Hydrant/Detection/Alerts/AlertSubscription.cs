using System.Threading.Channels;

namespace Hydrant.Detection.Alerts;

/// <summary>One subscriber's queue of the <see cref="AlertFeed"/>: alert ids in the order they were first queued, each with its latest version.</summary>
public sealed class AlertSubscription : ChannelReader<Alert>
{
    private readonly int _capacity;
    private readonly Action _dropped;
    private readonly Lock _lock = new();
    private readonly Queue<string> _order = new();
    private readonly Dictionary<string, Alert> _latest = new(StringComparer.Ordinal);
    private TaskCompletionSource? _waiting;
    private bool _completed;
    private long _droppedSinceTaken;

    internal AlertSubscription(int capacity, Action dropped)
    {
        _capacity = capacity;
        _dropped = dropped;
    }

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

    internal void Offer(Alert alert)
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
                if (_order.Count == _capacity)
                {
                    _latest.Remove(_order.Dequeue());
                    _droppedSinceTaken++;
                    _dropped();
                }
                _order.Enqueue(alert.Id);
            }
            _latest[alert.Id] = alert;
            wake = _waiting;
            _waiting = null;
        }
        wake?.TrySetResult();
    }

    /// <summary>How many alerts were dropped for this subscriber since the last call.</summary>
    public long TakeDropped()
    {
        lock (_lock)
        {
            var dropped = _droppedSinceTaken;
            _droppedSinceTaken = 0;
            return dropped;
        }
    }

    internal void Complete()
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
