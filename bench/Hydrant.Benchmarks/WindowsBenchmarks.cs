using BenchmarkDotNet.Attributes;
using Hydrant.Detection;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Events.Formats.Evtx;

namespace Hydrant.Benchmarks;

/// <summary>
/// Windows on one core, as <c>hunt</c> and ingest read it: the corpus's 93 EVTX attack samples
/// (../shared/corpus/logs/windows/evtx-attack-samples, 2,713 records) and OTRF's Windows JSON
/// (../shared/corpus/logs/windows/otrf-atomic, 4,612 records). Reading alone (EVTX to JSON lines;
/// EVTX and JSON to canonical Windows events), and with SigmaHQ's Windows rules (2,406) tested on
/// every event. One operation = every file once; the setup prints the bytes and records per
/// operation, from which BENCHMARKS.md gives MB/s and events/s.
/// </summary>
[MemoryDiagnoser]
public class WindowsBenchmarks
{
    private static readonly ParseOptions Evtx = new() { Format = InputFormat.Evtx };
    private static readonly ParseOptions Windows = new() { Format = InputFormat.Windows };
    private readonly EventParser _parser = new(EventLimits.Default with { MaxBodyBytes = long.MaxValue }, TimeProvider.System);
    private List<byte[]> _evtx = [];
    private List<byte[]> _json = [];
    private RuleSet _rules = null!;

    [GlobalSetup]
    public void Setup()
    {
        var windows = Path.Combine(DetectionBenchmarks.FindCorpus(), "logs", "windows");
        _evtx = [.. Directory.GetFiles(Path.Combine(windows, "evtx-attack-samples"), "*.evtx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
        _json = [.. Directory.GetFiles(Path.Combine(windows, "otrf-atomic"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
        _rules = RuleSet.Load(Path.Combine(DetectionBenchmarks.FindCorpus(), "sigmahq", "rules", "windows"), new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: false);
        Console.WriteLine($"// windows benchmark: EVTX {_evtx.Sum(f => (long)f.Length)} bytes, {ParseEvtx()} records; JSON {_json.Sum(f => (long)f.Length)} bytes, {ParseWindowsJson()} records; {_rules.Rules.Count} rules");
    }

    /// <summary>The EVTX reader alone: container, BinXml and the nested JSON of every record.</summary>
    [Benchmark]
    public long EvtxToJson()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>(1 << 16);
        long bytes = 0;
        foreach (var bytesOfFile in _evtx)
        {
            var file = EvtxFile.Open(bytesOfFile, out _)!;
            foreach (var record in file.Records())
            {
                output.ResetWrittenCount();
                EvtxJson.TryWrite(file, record, output);
                bytes += output.WrittenCount;
            }
        }
        return bytes;
    }

    /// <summary>EVTX files as ingest reads them: to canonical Windows events with their logsource.</summary>
    [Benchmark]
    public int ParseEvtx() => Parse(_evtx, Evtx, null);

    /// <summary>Windows JSON lines (OTRF's flattened exports) to canonical Windows events.</summary>
    [Benchmark]
    public int ParseWindowsJson() => Parse(_json, Windows, null);

    /// <summary>As <c>hunt</c> runs per event: EVTX read, and SigmaHQ's Windows rules tested on each event.</summary>
    [Benchmark]
    public int HuntEvtx() => Parse(_evtx, Evtx, _rules);

    /// <summary>As <c>hunt</c> runs per event: Windows JSON read, and SigmaHQ's Windows rules tested on each event.</summary>
    [Benchmark]
    public int HuntWindowsJson() => Parse(_json, Windows, _rules);

    private int Parse(List<byte[]> files, ParseOptions options, RuleSet? rules)
    {
        var count = 0;
        var matched = new List<SigmaRule>();
        var hits = new List<CorrelationHit>();
        foreach (var file in files)
        {
            using var batch = _parser.Parse(file, options);
            foreach (var e in batch.Events)
            {
                if (rules is not null)
                {
                    using var view = new EventView(e.Json);
                    matched.Clear();
                    hits.Clear();
                    rules.Evaluate(view, e.Envelope, matched, hits);
                }
                count++;
            }
        }
        return count;
    }
}
