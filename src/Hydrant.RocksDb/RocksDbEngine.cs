using Hydrant.Storage;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// One RocksDB database holding the spool and the embedded store, so an ingest batch writes both
/// atomically. Column families: spool (sequence -> event), main, hot and source (partition key,
/// 0x00, sort key), ids (idempotency), meta (spool head, checkpoints), alerts (by id, a ULID). Memory is bounded by one shared block
/// cache and a total memtable budget.
/// </summary>
internal sealed class RocksDbEngine : IDisposable
{
    public const string SpoolFamily = "spool";
    public const string MainFamily = "main";
    public const string HotFamily = "hot";
    public const string SourceFamily = "source";
    public const string IdsFamily = "ids";
    public const string MetaFamily = "meta";
    public const string AlertsFamily = "alerts";

    private RocksDbEngine(RocksDbSharp.RocksDb db)
    {
        Db = db;
        Spool = db.GetColumnFamily(SpoolFamily);
        Main = db.GetColumnFamily(MainFamily);
        Hot = db.GetColumnFamily(HotFamily);
        Source = db.GetColumnFamily(SourceFamily);
        Ids = db.GetColumnFamily(IdsFamily);
        Meta = db.GetColumnFamily(MetaFamily);
        Alerts = db.GetColumnFamily(AlertsFamily);
    }

    public RocksDbSharp.RocksDb Db { get; }
    public ColumnFamilyHandle Spool { get; }
    public ColumnFamilyHandle Main { get; }
    public ColumnFamilyHandle Hot { get; }
    public ColumnFamilyHandle Source { get; }
    public ColumnFamilyHandle Ids { get; }
    public ColumnFamilyHandle Meta { get; }
    public ColumnFamilyHandle Alerts { get; }

    /// <summary>What this engine was asked to write, for <c>/v1/stats</c>.</summary>
    public StorageWrites Writes { get; private init; } = new();

    /// <summary>Writes the batch, counting its inserts and bytes: every write of the node goes through here.</summary>
    public void Write(WriteBatch batch, WriteOptions? options = null)
    {
        Native.Instance.rocksdb_writebatch_data(batch.Handle, out var size);
        Db.Write(batch, options);
        Writes.Record(batch.Count(), (long)size);
    }

    /// <summary>Puts one value outside a batch (a batch of one, counted as such).</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ColumnFamilyHandle family, WriteOptions options)
    {
        using var batch = new WriteBatch();
        batch.Put(key, value, family);
        Write(batch, options);
    }

    /// <summary>Deletes one key outside a batch (a batch of one, counted as such).</summary>
    public void Remove(ReadOnlySpan<byte> key, ColumnFamilyHandle family, WriteOptions options)
    {
        using var batch = new WriteBatch();
        batch.Delete(key, family);
        Write(batch, options);
    }

    public static RocksDbEngine Open(StoreOptions options, RocksDbOptions tuning, StorageWrites? writes = null)
    {
        var path = Path.GetFullPath(Path.Combine(options.DataPath, "rocksdb"));
        Directory.CreateDirectory(path);

        var cache = Cache.CreateLru((ulong)tuning.BlockCacheBytes);
        var dbOptions = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .SetMaxBackgroundCompactions(2)
            .SetMaxBackgroundFlushes(1)
            .SetDbWriteBufferSize((ulong)(tuning.WriteBufferBytes * 4))
            .SetMaxTotalWalSize((ulong)(tuning.WriteBufferBytes * 8))
            .SetBytesPerSync(1024 * 1024);
        // Pipelined writes let one write group append to the WAL while the previous one fills memtables.
        Native.Instance.rocksdb_options_set_enable_pipelined_write(dbOptions.Handle, 1);
        Native.Instance.rocksdb_options_set_max_background_jobs(dbOptions.Handle, 2);
        // One thread fills the memtables for a whole write group, through each memtable's hint of
        // where its last insert went; the spool puts a batch's keys in key order, so a key is found
        // next to the one before. Concurrent inserts search every skip list from the top.
        Native.Instance.rocksdb_options_set_allow_concurrent_memtable_write(dbOptions.Handle, 0);

        var families = new ColumnFamilies
        {
            { SpoolFamily, Family(tuning, cache, compress: false, bloom: false) },
            { MainFamily, WithBlobFiles(Family(tuning, cache, compress: true, bloom: false)) },
            { HotFamily, Family(tuning, cache, compress: true, bloom: false) },
            { SourceFamily, Family(tuning, cache, compress: true, bloom: false) },
            { IdsFamily, Family(tuning, cache, compress: true, bloom: true) },
            { MetaFamily, Family(tuning, cache, compress: false, bloom: false) },
            { AlertsFamily, Family(tuning, cache, compress: true, bloom: false) },
        };
        try
        {
            return new RocksDbEngine(RocksDbSharp.RocksDb.Open(dbOptions, path, families)) { Writes = writes ?? new StorageWrites() };
        }
        catch (RocksDbException e)
        {
            throw new StoreOpenException($"cannot open the data folder {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// L0 and L1 stay uncompressed: they are rewritten soon, and compressing them costs the flush
    /// thread CPU that ingest needs. LZ4 from L2 down, where data settles.
    /// </summary>
    private static readonly Compression[] Compressed = [Compression.No, Compression.No, Compression.Lz4, Compression.Lz4, Compression.Lz4, Compression.Lz4, Compression.Lz4];

    private static readonly Compression[] Uncompressed = [.. Compressed.Select(_ => Compression.No)];

    /// <summary>
    /// Events (about 1 KB each) live in blob files and the LSM tree keeps only their keys and
    /// blob references, so compaction rewrites references, not events. Blob GC reclaims space as
    /// retention drops whole months.
    /// </summary>
    private static ColumnFamilyOptions WithBlobFiles(ColumnFamilyOptions family)
    {
        Native.Instance.rocksdb_options_set_enable_blob_files(family.Handle, 1);
        Native.Instance.rocksdb_options_set_min_blob_size(family.Handle, 256);
        Native.Instance.rocksdb_options_set_blob_compression_type(family.Handle, (int)Compression.Lz4);
        Native.Instance.rocksdb_options_set_enable_blob_gc(family.Handle, 1);
        return family;
    }

    private static ColumnFamilyOptions Family(RocksDbOptions tuning, Cache cache, bool compress, bool bloom)
    {
        var table = new BlockBasedTableOptions()
            .SetBlockCache(cache)
            .SetBlockSize(16 * 1024)
            .SetCacheIndexAndFilterBlocks(true)
            .SetFormatVersion(5);
        if (bloom)
        {
            // Idempotency checks mostly ask for ids that are not there: a bloom filter answers those without I/O.
            table.SetFilterPolicy(BloomFilterPolicy.Create(10, false));
        }
        var levels = compress ? Compressed : Uncompressed;
        var family = new ColumnFamilyOptions()
            .SetCompressionPerLevel(levels, (ulong)levels.Length)
            .SetWriteBufferSize((ulong)tuning.WriteBufferBytes)
            .SetMaxWriteBufferNumber(3)
            .SetLevelCompactionDynamicLevelBytes(true)
            .SetBlockBasedTableFactory(table);
        if (bloom)
        {
            // Every event's id is looked up before it is written, and nearly all are new: a bloom
            // filter over the memtable answers those without walking its skiplist (the walk showed
            // in the ingest profile; BENCHMARKS.md, "Trust").
            family.SetMemtablePrefixBloomSizeRatio(0.1);
            Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(family.Handle, 1);
        }
        return family;
    }

    public void Dispose() => Db.Dispose();
}
