namespace Hydrant.Server.Monitoring;

/// <summary>
/// A count per UTC hour for the last <see cref="Hours"/> hours (alerts raised per hour, for the
/// pipeline view): adding to an hour that has gone past the window is dropped, and hours with
/// nothing added read as zero.
/// </summary>
public sealed class HourlyCounts
{
    public const int Hours = 24;
    private const long HourMs = 3_600_000;

    private readonly Lock _gate = new();
    private readonly long[] _counts = new long[Hours];
    private readonly long[] _hourOf = new long[Hours];

    public void Add(long atMs, long count)
    {
        var hour = Math.DivRem(atMs, HourMs).Quotient;
        var slot = (int)(hour % Hours);
        lock (_gate)
        {
            if (_hourOf[slot] != hour)
            {
                if (_hourOf[slot] > hour)
                {
                    return;
                }
                (_hourOf[slot], _counts[slot]) = (hour, 0);
            }
            _counts[slot] += count;
        }
    }

    /// <summary>The last <see cref="Hours"/> hours up to the one holding <paramref name="nowMs"/>, oldest first: each hour's start and its count.</summary>
    public IReadOnlyList<(long HourStartMs, long Count)> Last(long nowMs)
    {
        var current = nowMs / HourMs;
        var hours = new (long, long)[Hours];
        lock (_gate)
        {
            for (var i = 0; i < Hours; i++)
            {
                var hour = current - (Hours - 1) + i;
                var slot = (int)(hour % Hours);
                hours[i] = (hour * HourMs, _hourOf[slot] == hour ? _counts[slot] : 0);
            }
        }
        return hours;
    }
}
