using Hydrant.Detection;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>API rules in Redis, shared by every node that uses it: id to YAML in a <see cref="RedisVersionedHash"/>.</summary>
internal sealed class RedisRuleCache(IConnectionMultiplexer redis, string prefix = RedisKeys.DefaultPrefix) : IRuleCache
{
    private readonly RedisVersionedHash _rules = new(redis, prefix, "rules");

    public async ValueTask<RuleCacheContents> LoadAsync(CancellationToken cancellationToken)
    {
        var (version, rules) = await _rules.LoadAsync();
        return new RuleCacheContents(version, rules);
    }

    public ValueTask SaveAsync(string id, string yaml, CancellationToken cancellationToken) => _rules.SaveAsync(id, yaml);

    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken) => _rules.DeleteAsync(id);

    public ValueTask<long> VersionAsync(CancellationToken cancellationToken) => _rules.VersionAsync();

    public IDisposable Subscribe(Action changed) => _rules.Subscribe(changed);
}

/// <summary>Names shared by the Redis backends.</summary>
internal static class RedisKeys
{
    public const string DefaultPrefix = "hydrant:";
}
