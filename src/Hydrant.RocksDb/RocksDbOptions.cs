using Microsoft.Extensions.Configuration;

namespace Hydrant.RocksDb;

/// <summary>RocksDB's own tuning (Hydrant:RocksDb): the embedded engine's, not shared with other backends.</summary>
internal sealed record RocksDbOptions
{
    /// <summary>The tuning a configuration section (Hydrant:RocksDb) sets; the defaults for what it leaves out.</summary>
    public static RocksDbOptions From(IConfiguration? section)
    {
        var defaults = new RocksDbOptions();
        return section is null ? defaults : new()
        {
            BlockCacheBytes = section.GetValue<long?>("BlockCacheMB") * 1024 * 1024 ?? defaults.BlockCacheBytes,
            WriteBufferBytes = section.GetValue<long?>("WriteBufferMB") * 1024 * 1024 ?? defaults.WriteBufferBytes,
        };
    }

    /// <summary>Block cache, bytes (Hydrant:RocksDb:BlockCacheMB).</summary>
    public long BlockCacheBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Memtable size per column family, bytes (Hydrant:RocksDb:WriteBufferMB).</summary>
    public long WriteBufferBytes { get; init; } = 64L * 1024 * 1024;
}
