using System.Collections.Concurrent;

namespace Hydrant.Spool;

/// <summary>
/// At most one log message per key per interval, saying how many were held back since: a flood
/// of bad events or late ones must not flood the log as well.
/// </summary>
public sealed class LogThrottle(TimeSpan interval)
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset Last, long Held)> _keys = new(StringComparer.Ordinal);

    /// <summary>True when a message for <paramref name="key"/> may be logged now; <paramref name="held"/> is how many were not since the last one.</summary>
    public bool ShouldLog(string key, DateTimeOffset now, out long held)
    {
        var logged = false;
        var before = 0L;
        _keys.AddOrUpdate(key,
            _ =>
            {
                logged = true;
                return (now, 0);
            },
            (_, state) =>
            {
                if (now - state.Last >= interval)
                {
                    logged = true;
                    before = state.Held;
                    return (now, 0);
                }
                logged = false;
                return (state.Last, state.Held + 1);
            });
        held = before;
        return logged;
    }
}
