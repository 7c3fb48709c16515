using BenchmarkDotNet.Attributes;
using Hydrant.Enrichment.Intel;

namespace Hydrant.Benchmarks;

/// <summary>
/// Threat-intel lookups on one core: the corpus's four FireHOL lists
/// (../shared/corpus/threat-intel/firehol, 9,641 entries) merged, and 100,000 addresses asked,
/// a third of them listed. One operation = every address once; allocation should be zero.
/// </summary>
[MemoryDiagnoser]
public class IntelBenchmarks
{
    private static readonly string[] Files = ["firehol_level1.netset", "spamhaus_drop.netset", "feodo.ipset", "dshield.netset"];
    private IntelMatcher _matcher = null!;
    private string[] _addresses = [];

    [GlobalSetup]
    public void Setup()
    {
        var folder = Path.Combine(DetectionBenchmarks.FindCorpus(), "threat-intel", "firehol");
        var lists = Files
            .Select(f => { using var text = File.OpenText(Path.Combine(folder, f)); return IntelList.Parse(Path.GetFileNameWithoutExtension(f), text, new IntelListOptions()); })
            .ToList();
        _matcher = IntelMatcher.Build(lists);
        var random = new Random(16);
        var listed = lists.SelectMany(l => l.Networks).Select(n => n.BaseAddress.ToString()).ToArray();
        _addresses = [.. Enumerable.Range(0, 100_000).Select(i => i % 3 == 0 ? listed[random.Next(listed.Length)] : $"{random.Next(1, 224)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}")];
        Console.WriteLine($"// intel benchmark: {lists.Sum(l => l.Count)} entries, {_matcher.RangeCount} ranges");
    }

    [Benchmark]
    public int LookUpAddresses()
    {
        var hits = 0;
        foreach (var address in _addresses)
        {
            hits += _matcher.ListsHolding(address).Length;
        }
        return hits;
    }
}
