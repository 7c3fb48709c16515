using Microsoft.Extensions.Configuration;

namespace Hydrant.RocksDb;

/// <summary>RocksDB's own tuning (Hydrant:RocksDb): the embedded engine's, not shared with other backends.</summary>
internal sealed record RocksDbOptions
{
    /// <summary>The tuning a configuration section (Hydrant:RocksDb) sets; the defaults for what it leaves out.</summary>
    public static RocksDbOptions From(IConfiguration? section) => section is null ? new() : new()
    {
        BlockCacheBytes = section.GetValue("BlockCacheMB", 128L) * 1024 * 1024,
        WriteBufferBytes = section.GetValue("WriteBufferMB", 64L) * 1024 * 1024,
    };

    /// <summary>Block cache, bytes (Hydrant:RocksDb:BlockCacheMB).</summary>
    public long BlockCacheBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Memtable size per column family, bytes (Hydrant:RocksDb:WriteBufferMB).</summary>
    public long WriteBufferBytes { get; init; } = 64L * 1024 * 1024;
}
