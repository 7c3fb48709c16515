using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// The embedded event store's rows of one event, added to the spool's write batch so the event is
/// stored and spooled in one write: the main row (its JSON, under the partition and sort key), the
/// source index (no value: its key gives the main key, <see cref="RocksDbEventStore"/>) and, for
/// an event of the last 24 hours, the hot copy (pointing at the main row).
/// </summary>
internal sealed class RocksDbEventRows(RocksDbEngine engine)
{
    public void AddMain(WriteBatch batch, ReadOnlySpan<byte> mainKey, ReadOnlySpan<byte> json) => batch.Put(mainKey, json, engine.Main);

    public void AddSource(WriteBatch batch, ReadOnlySpan<byte> sourceKey) => batch.Put(sourceKey, ReadOnlySpan<byte>.Empty, engine.Source);

    /// <summary>Only an event of the last 24 hours has a hot key; for the others this adds nothing.</summary>
    public void AddHot(WriteBatch batch, ReadOnlySpan<byte> hotKey, ReadOnlySpan<byte> mainKey)
    {
        if (hotKey.Length > 0)
        {
            batch.Put(hotKey, mainKey, engine.Hot);
        }
    }
}
