using BenchmarkDotNet.Attributes;
using Hydrant.Events;
using Hydrant.Generation;
using Hydrant.Query;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Benchmarks;

/// <summary>
/// The console's event search against an embedded store holding a day of 1,000,000 generated
/// events (~1 KB each, 1,000 sources): the newest page of the day (the hot copy), one source's
/// newest page (the source index), and what a field condition costs per examined event (a page
/// with conditions examines at most Hydrant:Query:MaxExaminedPerPage of them).
/// </summary>
[MemoryDiagnoser]
public class EventQueryBenchmarks
{
    private const int Events = 1_000_000;
    private EmbeddedNode _node = null!;
    private IEventStore _store = null!;
    private long _nowMs;
    private string _busiestSource = "";
    private IReadOnlyList<ReadOnlyMemory<byte>> _examined = [];
    private FieldFilter _filter = null!;

    [GlobalSetup]
    public void Setup()
    {
        _node = new EmbeddedNode("events");
        _store = _node.Get<IEventStore>();
        var log = _node.Get<ISpool>();
        var parser = new EventParser(new EventLimits(), TimeProvider.System);
        _nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var generator = new EventGenerator(new GeneratorOptions { Count = Events, Days = 1, EndMs = _nowMs - 60_000, Sources = 1000 });
        const int Batch = 10_000;
        for (long first = 0; first < Events; first += Batch)
        {
            using var buffer = new PooledBuffer();
            generator.WriteNdjson(buffer, first, Batch);
            using var batch = parser.Parse(buffer.Span);
            log.AppendAsync(batch.Events, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        _busiestSource = generator.Sources[0];
        var page = Query(new EventQuery { FromMs = _nowMs - (24 * 3_600_000L), ToMs = _nowMs, Limit = 1000 });
        _examined = page.Events;
        _filter = FieldFilter.Parse([("user", "ro*"), ("logsource.product", "hydrant")], out _)!;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _node.Dispose();
    }

    private EventPage Query(EventQuery query) =>
        _store.QueryAsync(query, QueryPlanner.Plan(query, _nowMs, TimeSpan.FromDays(30)), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public int NewestPageOfTheDay() => Query(new EventQuery { FromMs = _nowMs - (24 * 3_600_000L), ToMs = _nowMs, Limit = 100 }).Events.Count;

    [Benchmark]
    public int NewestPageOfOneSource() => Query(new EventQuery { SourceIP = _busiestSource, FromMs = _nowMs - (24 * 3_600_000L), ToMs = _nowMs, Limit = 100 }).Events.Count;

    /// <summary>1,000 events tested against two field conditions: the cost of examining them.</summary>
    [Benchmark(OperationsPerInvoke = 1000)]
    public int FieldConditionsPerExaminedEvent() => _examined.Count(e => _filter.Matches(e));
}
