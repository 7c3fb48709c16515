using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Benchmarks;

/// <summary>
/// Detection cost per event on one core: the corpus events (CloudTrail, Zeek, syslog, web access)
/// through the full SigmaHQ rules folder (../shared/corpus/sigmahq/rules), and through three and
/// ten copies of every rule, to show how cost grows with the rule count. One operation = every
/// event once.
/// </summary>
[MemoryDiagnoser]
public class DetectionBenchmarks
{
    private RuleSet _rules = null!;
    private readonly List<byte[]> _events = [];

    [Params(1, 3, 10)]
    public int RuleCopies { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var corpus = FindCorpus();
        var compiler = new SigmaCompiler(SigmaOptions.Default);
        var rules = new List<LoadedDocument>();
        foreach (var file in RuleSet.RuleFiles(Path.Combine(corpus, "sigmahq", "rules")))
        {
            var yaml = File.ReadAllText(file);
            for (var copy = 0; copy < RuleCopies; copy++)
            {
                var copied = Regex.Replace(yaml, @"(?m)^id: *(\S+)", m => $"id: {m.Groups[1].Value}-{copy}");
                rules.AddRange(compiler.CompileFile(copied).Where(d => d.Document is not null).Select(d => new LoadedDocument(d.Document!, file)));
            }
        }
        _rules = new RuleSet(rules, []);

        var parser = new EventParser(EventLimits.Default, TimeProvider.System);
        var logs = Path.Combine(corpus, "logs");
        void Add(string path, InputFormat format)
        {
            var batch = parser.Parse(File.ReadAllBytes(path), new ParseOptions { Format = format });
            _events.AddRange(batch.Events.Select(e => e.Json.ToArray()));
        }
        foreach (var file in Directory.GetFiles(Path.Combine(logs, "zeek", "brimdata-wrccdc2018"), "*.json"))
        {
            Add(file, InputFormat.Zeek);
        }
        foreach (var file in Directory.GetFiles(Path.Combine(logs, "cloudtrail"), "*.json", SearchOption.AllDirectories))
        {
            Add(file, InputFormat.CloudTrail);
        }
        Add(Path.Combine(logs, "loghub", "OpenSSH", "OpenSSH_2k.log"), InputFormat.Syslog);
        Add(Path.Combine(logs, "loghub", "Linux", "Linux_2k.log"), InputFormat.Syslog);
        Add(Path.Combine(logs, "web-apache-access-elastic", "apache_logs.2015-05-17.log"), InputFormat.Web);
        Console.WriteLine($"// detection benchmark: {_events.Count} events, {_rules.Rules.Count} rules");
    }

    [Benchmark]
    public int EvaluateCorpusEvents()
    {
        var matched = new List<SigmaRule>();
        foreach (var json in _events)
        {
            using var view = new EventView(json);
            _rules.Match(view, matched);
        }
        return matched.Count;
    }

    internal static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Hydrant.slnx")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
            }
        }
        throw new DirectoryNotFoundException("no Hydrant.slnx above " + AppContext.BaseDirectory);
    }
}
