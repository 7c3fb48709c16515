using BenchmarkDotNet.Attributes;
using Hydrant.Keys;

namespace Hydrant.Benchmarks;

/// <summary>Building the keys of one event: shard hash, main partition and sort key, joined for RocksDB.</summary>
[MemoryDiagnoser]
public class KeyBenchmarks
{
    private const long Timestamp = 1_764_000_000_123;

    [Benchmark]
    public ulong ShardHashIpv4() => SourceShard.Hash("192.168.187.39");

    [Benchmark]
    public ulong ShardHashIpv6() => SourceShard.Hash("2001:db8:4fec::daf1");

    [Benchmark]
    public byte[] MainKey()
    {
        var shard = SourceShard.Main(SourceShard.Hash("192.168.187.39"));
        return EventKeys.Join(EventKeys.MainPartition(Timestamp, shard), EventKeys.SortKey(Timestamp, "auth.failure", "01JDQ8Z6P4J9K3M2N1B0V9C8X7"));
    }
}
