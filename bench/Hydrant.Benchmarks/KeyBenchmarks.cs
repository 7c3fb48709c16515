using BenchmarkDotNet.Attributes;
using Hydrant.Keys;

namespace Hydrant.Benchmarks;

/// <summary>
/// Building the keys of one event: the shard hash, and the main key as text (planner, tests) and
/// as bytes (the ingest path).
/// </summary>
[MemoryDiagnoser]
public class KeyBenchmarks
{
    private const long Timestamp = 1_764_000_000_123;
    private const string EventId = "01JDQ8Z6P4J9K3M2N1B0V9C8X7";
    private readonly byte[] _key = new byte[EventKeys.MaxKeyBytes];

    [Benchmark]
    public ulong ShardHashIpv4() => SourceShard.Hash("192.168.187.39");

    [Benchmark]
    public ulong ShardHashIpv6() => SourceShard.Hash("2001:db8:4fec::daf1");

    [Benchmark]
    public byte[] MainKeyText()
    {
        var shard = SourceShard.Main(SourceShard.Hash("192.168.187.39"));
        return EventKeys.Join(EventKeys.MainPartition(Timestamp, shard), EventKeys.SortKey(Timestamp, "auth.failure", EventId));
    }

    [Benchmark]
    public int MainKeyBytes()
    {
        var shard = SourceShard.Main(SourceShard.Hash("192.168.187.39"));
        return EventKeys.WriteMainKey(_key, Timestamp, shard, "auth.failure", EventId);
    }

    [Benchmark]
    public int AllKeysOfOneEvent()
    {
        var hash = SourceShard.Hash("192.168.187.39");
        return EventKeys.WriteMainKey(_key, Timestamp, SourceShard.Main(hash), "auth.failure", EventId)
            + EventKeys.WriteSourceKey(_key, Timestamp, "192.168.187.39", "auth.failure", EventId)
            + EventKeys.WriteHotKey(_key, Timestamp, SourceShard.Hot(hash), "auth.failure", EventId);
    }
}
