using System.IO.Hashing;
using System.Text;

namespace Hydrant.DynamoDb;

/// <summary>
/// Keeps any one DynamoDB partition key under its 1,000 write units a second. The design's keys
/// send every event of one source to one partition key (main, hot and source index), and a
/// scanner alone can exceed that. Items are placed on a logical key's physical keys — the key
/// itself, then "{key}#x1", "#x2", ... — counting the write units each physical key is given per
/// second; a logical key whose physical keys are all at their budget gets twice as many. The
/// budget is half the cap, so items placed in one second and sent in the next still stay under
/// it. Spreads only grow (a key is per month or per day, so they end with it), and each is
/// recorded in the table before an item goes to a new physical key, so readers fan out over them.
/// One instance per store writer, used by its one consumer loop (not thread-safe).
/// </summary>
internal sealed class HotKeys
{
    public const int UnitsPerKeyPerSecond = 1_000;
    public const int PlacementBudget = UnitsPerKeyPerSecond / 2;
    public const int MaxSpread = 1_024;

    private readonly Dictionary<string, int> _spread = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Second, int Units)> _placed = new(StringComparer.Ordinal);
    private long _prunedAt;

    /// <summary>The physical key for suffix <paramref name="index"/> of a logical key.</summary>
    public static string Physical(string logicalKey, int index) => index == 0 ? logicalKey : string.Concat(logicalKey, "#x", index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The record that tells readers how many physical keys a logical key has.</summary>
    public static string SpreadRecordKey(string logicalKey) => "spread#" + logicalKey;

    /// <summary>Write units of an item: one per started KiB.</summary>
    public static int UnitsOf(int itemBytes) => 1 + ((itemBytes - 1) / 1024);

    public int SpreadOf(string logicalKey) => _spread.GetValueOrDefault(logicalKey, 1);

    /// <summary>Seeds what an earlier run (or another node) recorded.</summary>
    public void Know(string logicalKey, int spread)
    {
        if (spread > SpreadOf(logicalKey))
        {
            _spread[logicalKey] = spread;
        }
    }

    /// <summary>
    /// The physical key for one item of <paramref name="units"/> write units placed in
    /// <paramref name="second"/>; adds to <paramref name="widened"/> the logical keys whose spread
    /// grew (to be recorded before the item is written).
    /// </summary>
    public string Place(string logicalKey, string itemId, int units, long second, ISet<string> widened)
    {
        if (second != _prunedAt)
        {
            // Only the current second's counts matter.
            foreach (var stale in _placed.Where(p => p.Value.Second < second).Select(p => p.Key).ToList())
            {
                _placed.Remove(stale);
            }
            _prunedAt = second;
        }
        var spread = SpreadOf(logicalKey);
        var start = (int)(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(itemId)) % (ulong)spread);
        for (var j = 0; j < spread; j++)
        {
            var key = Physical(logicalKey, (start + j) % spread);
            if (TryTake(key, units, second))
            {
                return key;
            }
        }
        while (spread < MaxSpread)
        {
            var wider = spread * 2;
            _spread[logicalKey] = wider;
            widened.Add(logicalKey);
            for (var index = spread; index < wider; index++)
            {
                var key = Physical(logicalKey, index);
                if (TryTake(key, units, second))
                {
                    return key;
                }
            }
            spread = wider;
        }
        // At the widest spread every key is at its budget: over budget, never over the cap in practice.
        var last = Physical(logicalKey, start % spread);
        Take(last, units, second);
        return last;
    }

    private bool TryTake(string key, int units, long second)
    {
        var (at, used) = _placed.GetValueOrDefault(key);
        var now = at == second ? used : 0;
        if (now + units > PlacementBudget && now > 0)
        {
            return false;
        }
        _placed[key] = (second, now + units);
        return true;
    }

    private void Take(string key, int units, long second)
    {
        var (at, used) = _placed.GetValueOrDefault(key);
        _placed[key] = (second, (at == second ? used : 0) + units);
    }
}
