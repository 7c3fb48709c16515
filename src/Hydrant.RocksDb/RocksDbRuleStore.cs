using System.Text;
using Hydrant.Detection;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>API rules in the meta family under "rule/{id}", written synced.</summary>
internal sealed class RocksDbRuleStore(RocksDbEngine engine) : IRuleStore
{
    private const string Prefix = "rule/";
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);

    public ValueTask<IReadOnlyList<(string Id, string Yaml)>> LoadAsync(CancellationToken cancellationToken)
    {
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
        return ValueTask.FromResult<IReadOnlyList<(string, string)>>(rules);
    }

    public ValueTask SaveAsync(string id, string yaml, CancellationToken cancellationToken)
    {
        engine.Db.Put(Encoding.UTF8.GetBytes(Prefix + id), Encoding.UTF8.GetBytes(yaml), engine.Meta, _synced);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var key = Encoding.UTF8.GetBytes(Prefix + id);
        var existed = engine.Db.HasKey(key, engine.Meta);
        engine.Db.Remove(key, engine.Meta, _synced);
        return ValueTask.FromResult(existed);
    }
}
