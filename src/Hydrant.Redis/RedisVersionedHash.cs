using System.Globalization;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>
/// Named texts shared by every node that uses the Redis: a hash of name to text and a version
/// counter, changed together by one script that also publishes the new version, so each node drops
/// its in-process copy on the notification (and a node that missed one finds the version moved).
/// The rule cache and the intel lists are two of these.
/// </summary>
internal sealed class RedisVersionedHash
{
    private const string SaveScript = """
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        local version = redis.call('INCR', KEYS[2])
        redis.call('PUBLISH', ARGV[3], version)
        return version
        """;

    private const string DeleteScript = """
        if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
        local version = redis.call('INCR', KEYS[2])
        redis.call('PUBLISH', ARGV[2], version)
        return 1
        """;

    private const string LoadScript = """
        return {redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKey _entries;
    private readonly RedisKey _version;
    private readonly RedisChannel _changes;

    /// <param name="redis">The connection, shared by every Redis backend of the node.</param>
    /// <param name="prefix">Put before every key and channel, so several deployments can share one Redis.</param>
    /// <param name="name">The hash's key after the prefix (<c>rules</c>, <c>intel</c>).</param>
    public RedisVersionedHash(IConnectionMultiplexer redis, string prefix, string name)
    {
        _redis = redis;
        _entries = prefix + name;
        _version = prefix + name + ":version";
        _changes = RedisChannel.Literal(prefix + name + ":changed");
    }

    public async ValueTask<(long Version, List<(string Name, string Text)> Entries)> LoadAsync()
    {
        var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(LoadScript, [_entries, _version]))!;
        var pairs = (RedisResult[])result[1]!;
        var entries = new List<(string, string)>(pairs.Length / 2);
        for (var i = 0; i + 1 < pairs.Length; i += 2)
        {
            entries.Add(((string)pairs[i]!, (string)pairs[i + 1]!));
        }
        return (long.Parse((string)result[0]!, CultureInfo.InvariantCulture), entries);
    }

    public async ValueTask SaveAsync(string name, string text) =>
        await _redis.GetDatabase().ScriptEvaluateAsync(SaveScript, [_entries, _version], [name, text, _changes.ToString()]);

    public async ValueTask<bool> DeleteAsync(string name) =>
        (long)(await _redis.GetDatabase().ScriptEvaluateAsync(DeleteScript, [_entries, _version], [name, _changes.ToString()])) == 1;

    public async ValueTask<long> VersionAsync() => (long?)await _redis.GetDatabase().StringGetAsync(_version) ?? 0;

    public IDisposable Subscribe(Action changed)
    {
        var subscriber = _redis.GetSubscriber();
        Action<RedisChannel, RedisValue> handler = (_, _) => changed();
        subscriber.Subscribe(_changes, handler);
        return new Subscription(subscriber, _changes, handler);
    }

    private sealed class Subscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IDisposable
    {
        public void Dispose() => subscriber.Unsubscribe(channel, handler);
    }
}
