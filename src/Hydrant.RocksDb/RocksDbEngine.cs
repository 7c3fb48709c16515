using Hydrant.Storage;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// One RocksDB database holding the spool and the embedded store, so an ingest batch writes both
/// atomically. Column families: spool (sequence -> event), main, hot and source (partition key,
/// 0x00, sort key), ids (idempotency), meta (spool head). Memory is bounded by one shared block
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

    private RocksDbEngine(RocksDbSharp.RocksDb db)
    {
        Db = db;
        Spool = db.GetColumnFamily(SpoolFamily);
        Main = db.GetColumnFamily(MainFamily);
        Hot = db.GetColumnFamily(HotFamily);
        Source = db.GetColumnFamily(SourceFamily);
        Ids = db.GetColumnFamily(IdsFamily);
        Meta = db.GetColumnFamily(MetaFamily);
    }

    public RocksDbSharp.RocksDb Db { get; }
    public ColumnFamilyHandle Spool { get; }
    public ColumnFamilyHandle Main { get; }
    public ColumnFamilyHandle Hot { get; }
    public ColumnFamilyHandle Source { get; }
    public ColumnFamilyHandle Ids { get; }
    public ColumnFamilyHandle Meta { get; }

    public static RocksDbEngine Open(StoreOptions options)
    {
        var path = Path.GetFullPath(Path.Combine(options.DataPath, "rocksdb"));
        Directory.CreateDirectory(path);

        var cache = Cache.CreateLru((ulong)options.BlockCacheBytes);
        var dbOptions = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .SetMaxBackgroundCompactions(2)
            .SetMaxBackgroundFlushes(1)
            .SetDbWriteBufferSize((ulong)(options.WriteBufferBytes * 4))
            .SetMaxTotalWalSize((ulong)(options.WriteBufferBytes * 8))
            .SetBytesPerSync(1024 * 1024);

        var families = new ColumnFamilies
        {
            { SpoolFamily, Family(options, cache, Compression.Lz4, bloom: false) },
            { MainFamily, Family(options, cache, Compression.Lz4, bloom: false) },
            { HotFamily, Family(options, cache, Compression.Lz4, bloom: false) },
            { SourceFamily, Family(options, cache, Compression.Lz4, bloom: false) },
            { IdsFamily, Family(options, cache, Compression.Lz4, bloom: true) },
            { MetaFamily, Family(options, cache, Compression.No, bloom: false) },
        };
        return new RocksDbEngine(RocksDbSharp.RocksDb.Open(dbOptions, path, families));
    }

    private static ColumnFamilyOptions Family(StoreOptions options, Cache cache, Compression compression, bool bloom)
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
        return new ColumnFamilyOptions()
            .SetCompression(compression)
            .SetWriteBufferSize((ulong)options.WriteBufferBytes)
            .SetMaxWriteBufferNumber(3)
            .SetLevelCompactionDynamicLevelBytes(true)
            .SetBlockBasedTableFactory(table);
    }

    public void Dispose() => Db.Dispose();
}
