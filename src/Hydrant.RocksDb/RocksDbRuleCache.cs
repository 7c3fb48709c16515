using System.Collections.Immutable;
using System.Text;
using Hydrant.Detection;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// API rules of a single node, in the meta family under "rule/{id}", written synced. Only this
/// node changes them, so the version and the subscribers live in the process.
/// </summary>
internal sealed class RocksDbRuleCache(RocksDbEngine engine) : IRuleCache
{
    private const string Prefix = "rule/";
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private ImmutableArray<Action> _subscribers = [];
    private long _version;

    public ValueTask<RuleCacheContents> LoadAsync(CancellationToken cancellationToken)
    {
        var version = Interlocked.Read(ref _version);
        var rules = new List<(string, string)>();
        using var iterator = engine.Db.NewIterator(engine.Meta);
        for (iterator.Seek(Encoding.UTF8.GetBytes(Prefix)); iterator.Valid(); iterator.Next())
        {
            var key = Encoding.UTF8.GetString(iterator.GetKeySpan());
            if (!key.StartsWith(Prefix, StringComparison.Ordinal))
            {
                break;
            }
            rules.Add((key[Prefix.Length..], Encoding.UTF8.GetString(iterator.GetValueSpan())));
        }
        return ValueTask.FromResult(new RuleCacheContents(version, rules));
    }

    public ValueTask SaveAsync(string id, string yaml, CancellationToken cancellationToken)
    {
        engine.Put(Encoding.UTF8.GetBytes(Prefix + id), Encoding.UTF8.GetBytes(yaml), engine.Meta, _synced);
        Changed();
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var key = Encoding.UTF8.GetBytes(Prefix + id);
        var existed = engine.Db.HasKey(key, engine.Meta);
        if (existed)
        {
            engine.Remove(key, engine.Meta, _synced);
            Changed();
        }
        return ValueTask.FromResult(existed);
    }

    public ValueTask<long> VersionAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Interlocked.Read(ref _version));

    public IDisposable Subscribe(Action changed)
    {
        ImmutableInterlocked.Update(ref _subscribers, s => s.Add(changed));
        return new Unsubscriber(this, changed);
    }

    private void Changed()
    {
        Interlocked.Increment(ref _version);
        foreach (var subscriber in _subscribers)
        {
            subscriber();
        }
    }

    private sealed class Unsubscriber(RocksDbRuleCache cache, Action changed) : IDisposable
    {
        public void Dispose() => ImmutableInterlocked.Update(ref cache._subscribers, s => s.Remove(changed));
    }
}
