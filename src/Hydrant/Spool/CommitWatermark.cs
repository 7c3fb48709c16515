namespace Hydrant.Spool;

/// <summary>
/// Hands out spool sequence ranges to concurrent writers and tracks the highest sequence below
/// which every range has finished (written or failed). Readers never look past it, so a range
/// still in flight can never be skipped by a consumer that raced ahead to a later one.
/// </summary>
public sealed class CommitWatermark(long start)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Range> _inFlight = new();
    private TaskCompletionSource _advanced = NewSignal();
    private long _allocated = start;
    private long _committed = start;

    public sealed class Range(long start, long end)
    {
        public long Start { get; } = start;
        public long End { get; } = end;
        internal bool Done { get; set; }
    }

    /// <summary>Every sequence below this is finished.</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>The sequence the next range starts at: everything below was handed out.</summary>
    public long Allocated
    {
        get
        {
            lock (_gate)
            {
                return _allocated;
            }
        }
    }

    public Range Allocate(int count)
    {
        lock (_gate)
        {
            var range = new Range(_allocated, _allocated + count);
            _allocated += count;
            _inFlight.AddLast(range);
            return range;
        }
    }

    /// <summary>Marks a range finished, written or not; a failed range leaves a gap readers step over.</summary>
    public void Complete(Range range)
    {
        TaskCompletionSource? signal = null;
        lock (_gate)
        {
            range.Done = true;
            while (_inFlight.First is { Value.Done: true } first)
            {
                Interlocked.Exchange(ref _committed, first.Value.End);
                _inFlight.RemoveFirst();
                signal ??= Interlocked.Exchange(ref _advanced, NewSignal());
            }
        }
        signal?.TrySetResult();
    }

    /// <summary>Completes once <see cref="Committed"/> is above <paramref name="sequence"/>.</summary>
    public async Task WaitPastAsync(long sequence, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = Volatile.Read(ref _advanced);
            if (Committed > sequence)
            {
                return;
            }
            await signal.Task.WaitAsync(cancellationToken);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
