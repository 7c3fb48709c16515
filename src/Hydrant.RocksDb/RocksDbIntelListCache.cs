using Hydrant.Enrichment.Intel;

namespace Hydrant.RocksDb;

/// <summary>The intel lists added through the API on a single node, in the meta family under "intel/{name}".</summary>
internal sealed class RocksDbIntelListCache(RocksDbEngine engine) : IIntelListCache
{
    private readonly RocksDbVersionedPrefix _lists = new(engine, "intel/");

    public ValueTask<IntelListCacheContents> LoadAsync(CancellationToken cancellationToken)
    {
        var version = _lists.Version;
        return ValueTask.FromResult(new IntelListCacheContents(version, _lists.Load()));
    }

    public ValueTask SaveAsync(string name, string document, CancellationToken cancellationToken)
    {
        _lists.Save(name, document);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken) => ValueTask.FromResult(_lists.Delete(name));

    public ValueTask<long> VersionAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_lists.Version);

    public IDisposable Subscribe(Action changed) => _lists.Subscribe(changed);
}
