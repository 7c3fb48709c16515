using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Hydrant.Enrichment;
using Hydrant.Enrichment.GeoIp;
using Hydrant.Enrichment.Intel;

namespace Hydrant.Benchmarks;

/// <summary>
/// Enrichment at ingest on one core: MaxMind's test City and ASN databases and the corpus's four
/// FireHOL lists, over 100,000 canonical events of ~300 bytes. Repeated: their sources are 10,000
/// addresses (a stream's sources repeat: answered from the cache); distinct: every event has a
/// new source (each one asked of the databases and the lists); with the databases or the lists
/// alone. One operation = every event once.
/// </summary>
[MemoryDiagnoser]
public class EnricherBenchmarks
{
    private static readonly string[] Files = ["firehol_level1.netset", "spamhaus_drop.netset", "feodo.ipset", "dshield.netset"];
    private Enricher _enricher = null!;
    private (byte[] Json, string Source)[] _repeated = [];
    private (byte[] Json, string Source)[] _distinct = [];
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);
    private readonly ArrayBufferWriter<byte> _scratch = new(1024);

    /// <summary>With the MaxMind databases, or the lists alone.</summary>
    [Params(true, false)]
    public bool GeoIp { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var corpus = DetectionBenchmarks.FindCorpus();
        var geoip = Path.Combine(corpus, "geoip", "maxmind-test-data", "test-data");
        var lists = Files.Select(f =>
        {
            using var text = File.OpenText(Path.Combine(corpus, "threat-intel", "firehol", f));
            return IntelList.Parse(Path.GetFileNameWithoutExtension(f), text, new IntelListOptions());
        }).ToList();
        _enricher = new Enricher(GeoIp ? GeoIpDatabase.Open(Path.Combine(geoip, "GeoIP2-City-Test.mmdb"), GeoIpKind.City) : null,
            GeoIp ? GeoIpDatabase.Open(Path.Combine(geoip, "GeoLite2-ASN-Test.mmdb"), GeoIpKind.Asn) : null, IntelMatcher.Build(lists), []);
        var random = new Random(16);
        string Address() => $"{random.Next(1, 224)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}";
        var sources = Enumerable.Range(0, 10_000).Select(_ => Address()).ToArray();
        (byte[], string) Event(int i, string source) => (Encoding.UTF8.GetBytes(
            $$"""{"id":"e{{i}}","timestamp":"2026-12-02T10:00:00.000Z","eventType":"auth.failure","sourceIP":"{{source}}","logsource":{"product":"hydrant","service":"auth"},"user":"alice","message":"authentication failure for alice from {{source}} port 51234 ssh2"}"""), source);
        _repeated = [.. Enumerable.Range(0, 100_000).Select(i => Event(i, sources[random.Next(sources.Length)]))];
        _distinct = [.. Enumerable.Range(0, 100_000).Select(i => Event(i, Address()))];
    }

    [Benchmark]
    public int RepeatedSources() => Enrich(_repeated);

    [Benchmark]
    public int DistinctSources() => Enrich(_distinct);

    private int Enrich((byte[] Json, string Source)[] events)
    {
        var enriched = 0;
        foreach (var (json, source) in events)
        {
            _output.ResetWrittenCount();
            enriched += _enricher.TryEnrich(json, source, _output, _scratch) ? 1 : 0;
        }
        return enriched;
    }
}
