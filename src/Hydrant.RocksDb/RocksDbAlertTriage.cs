using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Hydrant.Detection.Alerts;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// Alert triage of a node whose alerts are its own: one item per triaged alert under
/// "triage/{id}" in the meta family, and the closed epoch beside them. Changes of one node are
/// serialised by a lock, so a version compared is the version replaced. Synced: a change answered
/// is a change kept.
/// </summary>
internal sealed class RocksDbAlertTriage(RocksDbEngine engine) : IAlertTriage
{
    private const string Prefix = "triage/";
    private static readonly byte[] EpochKey = "triage-closed-epoch"u8.ToArray();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private readonly Lock _gate = new();

    public ValueTask<IReadOnlyDictionary<string, AlertTriageState>> GetAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, AlertTriageState>(StringComparer.Ordinal);
        foreach (var id in alertIds)
        {
            if (Load(id) is { } state)
            {
                states[id] = state;
            }
        }
        return ValueTask.FromResult<IReadOnlyDictionary<string, AlertTriageState>>(states);
    }

    public ValueTask<TriageResult> ChangeAsync(string alertId, long? expectedVersion, AlertChange change, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var current = Load(alertId) ?? AlertTriageState.New;
            if (expectedVersion is { } expected && expected != current.Version)
            {
                return ValueTask.FromResult(new TriageResult(current, Conflict: true));
            }
            if (current.Refusal(change) is { } refusal)
            {
                return ValueTask.FromResult(new TriageResult(current, Conflict: false, refusal));
            }
            var next = current.Apply(change);
            using var batch = new WriteBatch();
            batch.Put(Key(alertId), JsonSerializer.SerializeToUtf8Bytes(next, Json), engine.Meta);
            if (next.Status == AlertStatus.Closed && current.Status != AlertStatus.Closed)
            {
                var epoch = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(epoch, Epoch() + 1);
                batch.Put(EpochKey, epoch, engine.Meta);
            }
            engine.Write(batch, _synced);
            return ValueTask.FromResult(new TriageResult(next, Conflict: false));
        }
    }

    public ValueTask<long> ClosedEpochAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Epoch());

    private long Epoch() => engine.Db.Get(EpochKey, engine.Meta) is { } bytes ? BinaryPrimitives.ReadInt64BigEndian(bytes) : 0;

    private AlertTriageState? Load(string id) =>
        engine.Db.Get(Key(id), engine.Meta) is { } bytes ? JsonSerializer.Deserialize<AlertTriageState>(bytes, Json) : null;

    private static byte[] Key(string id) => Encoding.UTF8.GetBytes(Prefix + id);
}
