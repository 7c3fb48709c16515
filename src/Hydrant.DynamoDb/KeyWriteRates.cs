using Hydrant.Storage;

namespace Hydrant.DynamoDb;

/// <summary>
/// Write units sent per partition key (table key and source index key) per second, counted as each
/// BatchWriteItem call goes out: what DynamoDB would see, for /v1/stats and the hot-key benchmark.
/// Keys that never reach <see cref="Tracked"/> units in a second are counted but not remembered.
/// </summary>
internal sealed class KeyWriteRates(TimeProvider time) : IKeyWriteRates
{
    public int UnitsPerKeyPerSecondCap => HotKeys.UnitsPerKeyPerSecond;

    public const int Tracked = 100;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Second, int Units, int LastFull)> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _peaks = new(StringComparer.Ordinal);
    private long _pruned;
    private int _peak;

    /// <summary>The most write units any one key took in one second so far.</summary>
    public int PeakUnitsPerSecond
    {
        get
        {
            lock (_lock)
            {
                return _peak;
            }
        }
    }

    public void Record(string key, int units)
    {
        var second = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            var (at, used, lastFull) = _current.GetValueOrDefault(key);
            var now = at == second ? used + units : units;
            _current[key] = (second, now, at == second ? lastFull : at == second - 1 ? used : 0);
            if (now >= Tracked && now > _peaks.GetValueOrDefault(key))
            {
                _peaks[key] = now;
            }
            _peak = Math.Max(_peak, now);
            if (second > _pruned + 60)
            {
                foreach (var stale in _current.Where(p => p.Value.Second < second - 1).Select(p => p.Key).ToList())
                {
                    _current.Remove(stale);
                }
                _pruned = second;
            }
        }
    }

    /// <summary>The keys with the highest peaks, highest first.</summary>
    public IReadOnlyList<KeyRate> Hottest(int count)
    {
        var second = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            return [.. _peaks.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(count).Select(p =>
            {
                var (at, used, lastFull) = _current.GetValueOrDefault(p.Key);
                var last = at == second ? lastFull : at == second - 1 ? used : 0;
                return new KeyRate(p.Key, last, p.Value);
            })];
        }
    }
}
