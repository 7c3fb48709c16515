using Hydrant.Detection;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>
/// API rules in Redis, shared by every node that uses it: a hash of id to YAML and a version
/// counter, changed together by one script that also publishes the new version, so each node drops
/// its compiled copy on the notification (and a node that missed one finds the version moved).
/// </summary>
internal sealed class RedisRuleCache : IRuleCache
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
    private readonly RedisKey _rules;
    private readonly RedisKey _version;
    private readonly RedisChannel _changes;

    /// <param name="redis">The connection, shared by every Redis backend of the node.</param>
    /// <param name="prefix">Put before every key and channel, so several deployments can share one Redis.</param>
    public RedisRuleCache(IConnectionMultiplexer redis, string prefix = RedisKeys.DefaultPrefix)
    {
        _redis = redis;
        _rules = prefix + "rules";
        _version = prefix + "rules:version";
        _changes = RedisChannel.Literal(prefix + "rules:changed");
    }

    public async ValueTask<RuleCacheContents> LoadAsync(CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(LoadScript, [_rules, _version]))!;
        var pairs = (RedisResult[])result[1]!;
        var rules = new List<(string, string)>(pairs.Length / 2);
        for (var i = 0; i + 1 < pairs.Length; i += 2)
        {
            rules.Add(((string)pairs[i]!, (string)pairs[i + 1]!));
        }
        return new RuleCacheContents(long.Parse((string)result[0]!, System.Globalization.CultureInfo.InvariantCulture), rules);
    }

    public async ValueTask SaveAsync(string id, string yaml, CancellationToken cancellationToken) =>
        await _redis.GetDatabase().ScriptEvaluateAsync(SaveScript, [_rules, _version], [id, yaml, _changes.ToString()]);

    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        (long)(await _redis.GetDatabase().ScriptEvaluateAsync(DeleteScript, [_rules, _version], [id, _changes.ToString()])) == 1;

    public async ValueTask<long> VersionAsync(CancellationToken cancellationToken) =>
        (long?)await _redis.GetDatabase().StringGetAsync(_version) ?? 0;

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

/// <summary>Names shared by the Redis backends.</summary>
internal static class RedisKeys
{
    public const string DefaultPrefix = "hydrant:";
}
