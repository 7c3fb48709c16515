using System.Text;
using Hydrant.DynamoDb;
using Hydrant.Query;
using Hydrant.Tests.RocksDb;

namespace Hydrant.Tests.DynamoDb;

/// <summary>One source far faster than one DynamoDB partition key takes, on dynalite.</summary>
public sealed class HotKeyTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private readonly EmbeddedStore _spool = new(new FixedClock(Now));
    private readonly DynaliteTable _table;

    public HotKeyTests() => _table = new DynaliteTable(_spool);

    [Fact]
    public void Placement_never_gives_one_key_more_than_its_budget_in_a_second_and_widens_as_needed()
    {
        var keys = new HotKeys();
        var widened = new HashSet<string>();
        var placed = Enumerable.Range(0, 2_000).Select(i => keys.Place("pk", $"e{i}", units: 5, second: 7, widened)).ToList();
        Assert.All(placed.GroupBy(k => k), g => Assert.True(g.Count() * 5 <= HotKeys.PlacementBudget, $"{g.Key}: {g.Count() * 5} units"));
        Assert.Equal(["pk"], widened);
        Assert.Equal(32, keys.SpreadOf("pk")); // 10,000 units need 20 keys of 500; spreads double
        Assert.All(placed, k => Assert.True(k == "pk" || k.StartsWith("pk#x", StringComparison.Ordinal)));
        // A new second: the spread stays, the budget is fresh.
        Assert.Equal(32, placed.Distinct().Count());
        widened.Clear();
        keys.Place("pk", "later", units: 5, second: 8, widened);
        Assert.Empty(widened);
    }

    [Fact]
    public async Task A_source_sending_far_past_one_key_s_cap_is_spread_and_a_query_still_returns_every_event()
    {
        const int Events = 1_500;
        var padding = new string('x', 5_000);
        var nowMs = Now.ToUnixTimeMilliseconds();
        var ndjson = string.Join('\n', Enumerable.Range(0, Events).Select(i =>
            $$"""{"id":"hot-{{i}}","timestamp":{{nowMs - 60_000 + i}},"eventType":"scan","sourceIP":"203.0.113.77","pad":"{{padding}}"}"""));
        await _spool.AppendAsync(Encoding.UTF8.GetBytes(ndjson));
        await _table.CatchUpAsync(); // all in one second of the fixed clock

        Assert.InRange(_table.Rates.PeakUnitsPerSecond, 1, HotKeys.UnitsPerKeyPerSecond);
        Assert.Contains(_table.Rates.Hottest(10), k => k.Key.Contains("#x", StringComparison.Ordinal));

        foreach (var (query, expected) in new[]
        {
            (new EventQuery { SourceIP = "203.0.113.77", FromMs = nowMs - 3_600_000, ToMs = nowMs, Limit = 1_000 }, Events),
            (new EventQuery { FromMs = nowMs - 3_600_000, ToMs = nowMs, Limit = 1_000 }, Events),
            (new EventQuery { FromMs = nowMs - (3 * 86_400_000), ToMs = nowMs - 3_600_000 + 1, Limit = 1_000 }, 0), // nothing there
        })
        {
            var ids = await _spool.QueryAllAsync(query, _table.Store);
            Assert.Equal(expected, ids.Count);
            Assert.Equal(expected, ids.Distinct().Count());
        }
    }

    public void Dispose()
    {
        _table.Dispose();
        _spool.Dispose();
    }
}
