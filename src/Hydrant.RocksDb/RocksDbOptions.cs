namespace Hydrant.RocksDb;

/// <summary>RocksDB's own tuning (Hydrant:RocksDb): the embedded engine's, not shared with other backends.</summary>
public sealed record RocksDbOptions
{
    /// <summary>Block cache, bytes (Hydrant:RocksDb:BlockCacheMB).</summary>
    public long BlockCacheBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Memtable size per column family, bytes (Hydrant:RocksDb:WriteBufferMB).</summary>
    public long WriteBufferBytes { get; init; } = 64L * 1024 * 1024;
}
