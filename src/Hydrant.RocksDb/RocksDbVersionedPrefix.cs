using System.Collections.Immutable;
using System.Text;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// Named texts of a single node, in the meta family under one key prefix, written synced. Only
/// this node changes them, so the version and the subscribers live in the process. The rule cache
/// and the intel lists are two of these.
/// </summary>
internal sealed class RocksDbVersionedPrefix(RocksDbEngine engine, string prefix)
{
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private ImmutableArray<Action> _subscribers = [];
    private long _version;

    public long Version => Interlocked.Read(ref _version);

    public List<(string Name, string Text)> Load()
    {
        var entries = new List<(string, string)>();
        using var iterator = engine.Db.NewIterator(engine.Meta);
        for (iterator.Seek(Encoding.UTF8.GetBytes(prefix)); iterator.Valid(); iterator.Next())
        {
            var key = Encoding.UTF8.GetString(iterator.GetKeySpan());
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                break;
            }
            entries.Add((key[prefix.Length..], Encoding.UTF8.GetString(iterator.GetValueSpan())));
        }
        return entries;
    }

    public void Save(string name, string text)
    {
        engine.Put(Encoding.UTF8.GetBytes(prefix + name), Encoding.UTF8.GetBytes(text), engine.Meta, _synced);
        Changed();
    }

    public bool Delete(string name)
    {
        var key = Encoding.UTF8.GetBytes(prefix + name);
        var existed = engine.Db.HasKey(key, engine.Meta);
        if (existed)
        {
            engine.Remove(key, engine.Meta, _synced);
            Changed();
        }
        return existed;
    }

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

    private sealed class Unsubscriber(RocksDbVersionedPrefix entries, Action changed) : IDisposable
    {
        public void Dispose() => ImmutableInterlocked.Update(ref entries._subscribers, s => s.Remove(changed));
    }
}
