using Hydrant.Detection;

namespace Hydrant.RocksDb;

/// <summary>API rules of a single node, in the meta family under "rule/{id}".</summary>
internal sealed class RocksDbRuleCache(RocksDbEngine engine) : IRuleCache
{
    private readonly RocksDbVersionedPrefix _rules = new(engine, "rule/");

    public ValueTask<RuleCacheContents> LoadAsync(CancellationToken cancellationToken)
    {
        // The version first: a change while reading makes the next check load again.
        var version = _rules.Version;
        return ValueTask.FromResult(new RuleCacheContents(version, _rules.Load()));
    }

    public ValueTask SaveAsync(string id, string yaml, CancellationToken cancellationToken)
    {
        _rules.Save(id, yaml);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken) => ValueTask.FromResult(_rules.Delete(id));

    public ValueTask<long> VersionAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_rules.Version);

    public IDisposable Subscribe(Action changed) => _rules.Subscribe(changed);
}
