namespace Hydrant.Storage;

/// <summary>
/// What this node asked its storage engine to write: batches, memtable inserts (every put and
/// delete in them) and WAL bytes (each batch's serialized size: what its log record holds, block
/// headers aside). Set beside the events stored, it says what one event costs the engine before
/// compaction rewrites it (the write amplification <c>/v1/stats</c> shows).
/// </summary>
public sealed class StorageWrites
{
    private long _batches;
    private long _inserts;
    private long _walBytes;

    public long Batches => Interlocked.Read(ref _batches);

    public long MemtableInserts => Interlocked.Read(ref _inserts);

    public long WalBytes => Interlocked.Read(ref _walBytes);

    public void Record(long inserts, long walBytes)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _inserts, inserts);
        Interlocked.Add(ref _walBytes, walBytes);
    }
}
