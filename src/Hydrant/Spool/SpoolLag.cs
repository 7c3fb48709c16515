namespace Hydrant.Spool;

/// <summary>How far a consumer trails the spool: entries not yet handled, and how long ago the oldest of them was appended.</summary>
public readonly record struct ConsumerLag(string Consumer, long Position, long Events, double Seconds);

/// <summary>
/// When the spool's head passed each point: one sample of the head per tick, so a consumer's lag
/// in seconds is the age of the first sample that was already past its position (entries carry
/// no append time of their own). Samples older than the window are dropped; lag beyond it reads
/// as the window's age, a lower bound.
/// </summary>
public sealed class SpoolLag(TimeSpan window)
{
    private readonly Queue<(long AtMs, long Head)> _samples = new();
    private readonly Lock _lock = new();

    public void Sample(long nowMs, long head)
    {
        lock (_lock)
        {
            if (_samples.Count > 0 && _samples.Peek().AtMs < nowMs - (long)window.TotalMilliseconds)
            {
                _samples.Dequeue();
            }
            _samples.Enqueue((nowMs, head));
        }
    }

    public double SecondsBehind(long position, long head, long nowMs)
    {
        if (position >= head)
        {
            return 0;
        }
        lock (_lock)
        {
            foreach (var (atMs, sampledHead) in _samples)
            {
                if (sampledHead > position)
                {
                    return Math.Max(0, nowMs - atMs) / 1000.0;
                }
            }
            // Appended after the newest sample: less than a tick ago.
            return 0;
        }
    }
}
