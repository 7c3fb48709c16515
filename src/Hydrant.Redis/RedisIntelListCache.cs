using Hydrant.Enrichment.Intel;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>The intel lists added through the API, in Redis, so every node matches the same lists: name to document in a <see cref="RedisVersionedHash"/>.</summary>
internal sealed class RedisIntelListCache(IConnectionMultiplexer redis, string prefix = RedisKeys.DefaultPrefix) : IIntelListCache
{
    private readonly RedisVersionedHash _lists = new(redis, prefix, "intel");

    public async ValueTask<IntelListCacheContents> LoadAsync(CancellationToken cancellationToken)
    {
        var (version, lists) = await _lists.LoadAsync();
        return new IntelListCacheContents(version, lists);
    }

    public ValueTask SaveAsync(string name, string document, CancellationToken cancellationToken) => _lists.SaveAsync(name, document);

    public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken) => _lists.DeleteAsync(name);

    public ValueTask<long> VersionAsync(CancellationToken cancellationToken) => _lists.VersionAsync();

    public IDisposable Subscribe(Action changed) => _lists.Subscribe(changed);
}
