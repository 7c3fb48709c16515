using BenchmarkDotNet.Attributes;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Generation;

namespace Hydrant.Benchmarks;

/// <summary>
/// Parsing and canonicalizing a 1,000-event NDJSON request of ~1 KB events (the ingest hot path),
/// and the corpus's Zeek logs (../shared/corpus/logs/zeek, 17,650 records) as `hunt` reads them.
/// </summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private byte[] _ndjson = [];
    private byte[] _array = [];
    private EventParser _parser = null!;
    private (int Start, int Length)[] _lines = [];
    private byte[] _zeek = [];

    [Params(1000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var buffer = new PooledBuffer();
        new EventGenerator(new GeneratorOptions { Count = Events, EndMs = end, SizeBytes = 1024 }).WriteNdjson(buffer);
        _ndjson = buffer.Span.ToArray();
        _array = [(byte)'[', .. System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(_ndjson).TrimEnd('\n').Replace("\n", ",", StringComparison.Ordinal)), (byte)']'];
        _parser = new EventParser(EventLimits.Default, TimeProvider.System);
        var lines = new List<(int, int)>();
        for (var start = 0; start < _ndjson.Length;)
        {
            var length = Array.IndexOf(_ndjson, (byte)'\n', start) - start;
            lines.Add((start, length));
            start += length + 1;
        }
        _lines = [.. lines];
        _zeek = [.. Directory.GetFiles(Path.Combine(DetectionBenchmarks.FindCorpus(), "logs", "zeek", "brimdata-wrccdc2018"), "*.json").Order(StringComparer.Ordinal).SelectMany(File.ReadAllBytes)];
    }

    [Benchmark(Baseline = true)]
    public int Ndjson()
    {
        using var batch = _parser.Parse(_ndjson);
        return batch.Events.Count;
    }

    [Benchmark]
    public int JsonArray()
    {
        using var batch = _parser.Parse(_array);
        return batch.Events.Count;
    }

    [Benchmark]
    public int ZeekCorpus()
    {
        using var batch = _parser.Parse(_zeek, new ParseOptions { Format = InputFormat.Zeek });
        return batch.Events.Count;
    }

    /// <summary>The shape check alone (depth, UTF-8, duplicate names), the part of parsing every event pays before mapping.</summary>
    [Benchmark]
    public int ShapeCheck()
    {
        var valid = 0;
        foreach (var (start, length) in _lines)
        {
            valid += EventShape.Check(_ndjson.AsSpan(start, length)) is null ? 1 : 0;
        }
        return valid;
    }
}
