using BenchmarkDotNet.Attributes;
using Hydrant.Detection.Alerts;

namespace Hydrant.Benchmarks;

/// <summary>
/// The console's alert queue against an embedded store of 100,000 alerts (10 events each, one
/// level in five high, none critical): the newest page, a page filtered by level, a filter nothing
/// matches (how far one page reads before it stops with a cursor), and the triage of one page.
/// </summary>
[MemoryDiagnoser]
public class AlertQueryBenchmarks
{
    private const int Alerts = 100_000;
    private EmbeddedNode _node = null!;
    private IAlertStore _alerts = null!;
    private IAlertTriage _triage = null!;
    private string[] _newest = [];

    [GlobalSetup]
    public void Setup()
    {
        _node = new EmbeddedNode("alerts");
        _alerts = _node.Get<IAlertStore>();
        _triage = _node.Get<IAlertTriage>();
        var startMs = DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeMilliseconds();
        for (var batch = 0; batch < Alerts / 1000; batch++)
        {
            var changed = Enumerable.Range(batch * 1000, 1000).Select(i =>
            {
                var at = startMs + (i * 800L);
                var source = $"10.{i % 200}.{i / 200 % 250}.{i % 7}";
                var events = Enumerable.Range(0, 10).Select(e => new AlertEvent($"ev-{i}-{e}", Hydrant.Events.Timestamps.ToText(at + e), "auth.failure", source)).ToList();
                return Alert.Raise($"rule-{i % 40}", $"Rule {i % 40}", i % 5 == 0 ? "high" : "medium", source, events, 10, at, at + 9);
            }).ToList();
            _alerts.CommitAsync(new DetectorCommit(changed, [], new Dictionary<string, byte[]?>(), batch + 1), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        _newest = [.. _alerts.QueryAsync(new AlertQuery { Limit = 200 }, CancellationToken.None).AsTask().GetAwaiter().GetResult().Alerts.Select(a => a.Id)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _node.Dispose();
    }

    [Benchmark]
    public int NewestPageOf200() => _alerts.QueryAsync(new AlertQuery { Limit = 200 }, CancellationToken.None).AsTask().GetAwaiter().GetResult().Alerts.Count;

    [Benchmark]
    public int PageOf200FilteredByLevel() => _alerts.QueryAsync(new AlertQuery { Limit = 200, Level = "high" }, CancellationToken.None).AsTask().GetAwaiter().GetResult().Alerts.Count;

    [Benchmark]
    public int PageOfAFilterNothingMatches() => _alerts.QueryAsync(new AlertQuery { Limit = 200, Level = "critical" }, CancellationToken.None).AsTask().GetAwaiter().GetResult().Alerts.Count;

    [Benchmark]
    public int TriageOfOnePage() => _triage.GetAsync(_newest, CancellationToken.None).AsTask().GetAwaiter().GetResult().Count;
}
