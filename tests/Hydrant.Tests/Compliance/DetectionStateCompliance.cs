using System.Globalization;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Redis;
using Hydrant.Testing;
using Hydrant.Tests.Detection;
using StackExchange.Redis;

namespace Hydrant.Tests.Compliance;

/// <summary>
/// What detection state answers, run unchanged against each kind: a node's own
/// (SingleNodeDetectionState, Cache:Kind=memory) and Redis. The same events, in the same batches,
/// give the same alerts (rule, group, count, events behind them), for every correlation type. The Redis suite adds the cases of several nodes sharing one Redis.
/// </summary>
public abstract class DetectionStateCompliance : IDisposable
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    protected static readonly long T0 = Now.ToUnixTimeMilliseconds() - 3_600_000;
    private readonly List<DetectorNode> _nodes = [];
    private int _events;

    /// <summary>The detection state of node <paramref name="index"/>: its own, or one shared by every node.</summary>
    protected abstract ISharedDetectionState StateOf(int index);

    protected async Task<DetectorNode> StartNodeAsync(string rules, int index = 0, Func<IAlertStore, IAlertStore>? wrapStore = null)
    {
        var node = new DetectorNode(Now, rules, StateOf(index), wrapStore);
        _nodes.Add(node);
        await node.StartAsync();
        return node;
    }

    protected static string Rules(string correlation, params string[] types) =>
        correlation + string.Concat(types.Select(type => $"""

            ---
            title: Saw {type}
            name: saw_{type}
            logsource:
                product: test
            detection:
                selection:
                    eventType: {type}
                condition: selection
            level: low
            """));

    protected static string Correlation(string type, string body, string span = "5m") => $"""
        title: Correlated {type}
        id: 00000000-0000-4000-8000-00000000000{(int)Enum.Parse<Hydrant.Detection.Sigma.CorrelationType>(type.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true)}
        correlation:
            type: {type}
        {body}
            group-by:
                - sourceIP
            timespan: {span}
        level: high
        """;

    /// <summary>One event line: its type, source, time (seconds after T0) and extra fields.</summary>
    protected string Event(string type, double seconds, string ip = "10.0.0.1", string extra = "")
    {
        var id = "ev-" + (++_events).ToString(CultureInfo.InvariantCulture);
        return $$"""{"id":"{{id}}","timestamp":{{T0 + (long)(seconds * 1000)}},"eventType":"{{type}}","sourceIP":"{{ip}}","logsource":{"product":"test"}{{extra}} }""";
    }

    protected async Task<List<Alert>> AllAlertsAsync()
    {
        var alerts = new List<Alert>();
        foreach (var node in _nodes)
        {
            alerts.AddRange(await node.ListAlertsAsync());
        }
        return alerts;
    }

    protected static void AssertAlert(Alert alert, string? group, long count, params string[] eventIds)
    {
        Assert.Equal((group, count), (alert.GroupKey, alert.Count));
        Assert.Equal(eventIds, alert.Events.Select(e => e.Id));
    }

    private static string[] Ids(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(i => "ev-" + i.ToString(CultureInfo.InvariantCulture))];

    [Fact]
    public async Task Event_count_fires_when_the_window_fills_and_grows_its_alert_by_each_later_event()
    {
        var node = await StartNodeAsync(Rules(Correlation("event_count", """
                rules:
                    - saw_failure
                condition:
                    gte: 5
            """), "failure"));
        await node.SendAsync(string.Join('\n', Enumerable.Range(0, 4).Select(i => Event("failure", i))));
        await node.SendAsync(Event("failure", 10, "10.0.0.2"));
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("failure", 20));
        await node.SendAsync(string.Join('\n', Event("failure", 30), Event("failure", 40)));

        var alert = Assert.Single(await AllAlertsAsync());
        AssertAlert(alert, "sourceIP=10.0.0.1", 7, [.. Ids(1, 4), .. Ids(6, 8)]);
        Assert.Equal((T0, T0 + 40_000), (Hydrant.Events.Timestamps.ParseCanonical(alert.FirstSeen), Hydrant.Events.Timestamps.ParseCanonical(alert.LastSeen)));
    }

    protected static string ThreeFailures => Rules(Correlation("event_count", """
            rules:
                - saw_failure
            condition:
                gte: 3
        """), "failure");

    [Fact]
    public async Task An_event_that_arrived_before_the_window_filled_but_happened_after_the_hit_is_in_the_alert()
    {
        var node = await StartNodeAsync(ThreeFailures);
        await node.SendAsync(Event("failure", 20));
        await node.SendAsync(Event("failure", 0));
        Assert.Empty(await AllAlertsAsync());
        // Three in [0 s, 5 min], though the hit at 10 s ends no window holding three.
        await node.SendAsync(Event("failure", 10));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 3, "ev-2", "ev-3", "ev-1");
        await node.SendAsync(Event("failure", 15));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 4, "ev-2", "ev-3", "ev-1", "ev-4");
    }

    [Fact]
    public async Task A_window_slides_with_event_time_and_counts_only_what_it_holds()
    {
        var node = await StartNodeAsync(Rules(Correlation("event_count", """
                rules:
                    - saw_failure
                condition:
                    gte: 3
            """, span: "1m"), "failure"));
        await node.SendAsync(Event("failure", 0));
        await node.SendAsync(Event("failure", 40));
        await node.SendAsync(Event("failure", 80));
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("failure", 100));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 3, Ids(2, 4));
    }

    [Fact]
    public async Task Value_count_fires_on_distinct_values_and_counts_every_event_in_the_window()
    {
        var node = await StartNodeAsync(Rules(Correlation("value_count", """
                rules:
                    - saw_connect
                condition:
                    field: destinationPort
                    gte: 4
            """), "connect"));
        foreach (var (port, second) in new[] { (22, 0), (80, 1), (80, 2), (443, 3) })
        {
            await node.SendAsync(Event("connect", second, extra: $",\"destinationPort\":{port}"));
        }
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("connect", 4, extra: ",\"destinationPort\":8080"));
        await node.SendAsync(Event("connect", 5, extra: ",\"destinationPort\":22"));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 6, Ids(1, 6));
    }

    [Fact]
    public async Task Value_sum_fires_when_the_sum_passes_its_bound()
    {
        var node = await StartNodeAsync(Rules(Correlation("value_sum", """
                rules:
                    - saw_upload
                condition:
                    field: bytes
                    gt: 1000
            """), "upload"));
        foreach (var (bytes, second) in new[] { (400, 0), (300, 1), (300, 2) })
        {
            await node.SendAsync(Event("upload", second, extra: $",\"bytes\":{bytes}"));
        }
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("upload", 3, extra: ",\"bytes\":0.5"));
        await node.SendAsync(Event("upload", 4, extra: ",\"bytes\":50"));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 5, Ids(1, 5));
    }

    [Fact]
    public async Task Temporal_fires_once_every_rule_was_seen_in_the_window()
    {
        var node = await StartNodeAsync(Rules(Correlation("temporal", """
                rules:
                    - saw_a
                    - saw_b
                    - saw_c
            """), "a", "b", "c"));
        await node.SendAsync(string.Join('\n', Event("a", 0), Event("b", 1), Event("a", 2), Event("b", 3, "10.0.0.2")));
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("c", 4));
        await node.SendAsync(Event("b", 5));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 5, [.. Ids(1, 3), .. Ids(5, 6)]);
    }

    [Fact]
    public async Task Temporal_ordered_fires_once_the_rules_were_seen_in_order_counting_from_the_first_of_the_first_rule()
    {
        var node = await StartNodeAsync(Rules(Correlation("temporal_ordered", """
                rules:
                    - saw_a
                    - saw_b
                    - saw_c
            """), "a", "b", "c"));
        await node.SendAsync(string.Join('\n', Event("b", 0), Event("a", 1), Event("c", 2), Event("b", 3)));
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("c", 4));
        await node.SendAsync(Event("a", 5));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 5, Ids(2, 6));
    }

    [Fact]
    public async Task An_upper_bound_is_judged_when_the_aligned_window_closes()
    {
        var node = await StartNodeAsync(Rules(Correlation("event_count", """
                rules:
                    - saw_login
                condition:
                    lt: 3
            """), "login"));
        await node.SendAsync(string.Join('\n', Event("login", 10), Event("login", 20), Event("login", 30, "10.0.0.2"), Event("login", 40, "10.0.0.2"), Event("login", 50, "10.0.0.2")));
        // Open until the watermark passes its end (300 s) and the allowed lateness (60 s).
        await node.SendAsync(Event("other", 359));
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("other", 361));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 2, "ev-1", "ev-2");
    }

    [Fact]
    public async Task Value_avg_is_judged_on_the_whole_window()
    {
        var node = await StartNodeAsync(Rules(Correlation("value_avg", """
                rules:
                    - saw_upload
                condition:
                    field: bytes
                    gt: 100
            """), "upload"));
        foreach (var (bytes, second, ip) in new[] { (50, 10, "10.0.0.1"), (200, 20, "10.0.0.1"), (200, 30, "10.0.0.1"), (90, 40, "10.0.0.2") })
        {
            await node.SendAsync(Event("upload", second, ip, $",\"bytes\":{bytes}"));
        }
        await node.SendAsync(Event("other", 361));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 3, "ev-1", "ev-2", "ev-3");
    }

    [Fact]
    public async Task A_future_dated_event_of_the_group_does_not_blind_the_brute_force_after_it()
    {
        var node = await StartNodeAsync(ThreeFailures);
        // 14 minutes ahead of the node's clock, inside the accepted skew.
        await node.SendAsync(Event("failure", 3600 + (14 * 60)));
        await node.SendAsync(string.Join('\n', Event("failure", 3500), Event("failure", 3501), Event("failure", 3502)));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 3, "ev-2", "ev-3", "ev-4");
    }

    [Fact]
    public async Task A_replay_of_older_events_after_live_ones_of_the_same_group_raises_what_a_fresh_node_raises()
    {
        var node = await StartNodeAsync(ThreeFailures);
        await node.SendAsync(string.Join('\n', Event("failure", 3500), Event("failure", 3501), Event("failure", 3502)));
        // An hour older, after the live ones (a backfill): its own window, its own alert.
        await node.SendAsync(string.Join('\n', Event("failure", 0), Event("failure", 1)));
        await node.SendAsync(Event("failure", 2));
        var alerts = (await AllAlertsAsync()).OrderBy(a => a.FirstSeen, StringComparer.Ordinal).ToList();
        Assert.Equal(2, alerts.Count);
        AssertAlert(alerts[0], "sourceIP=10.0.0.1", 3, "ev-4", "ev-5", "ev-6");
        AssertAlert(alerts[1], "sourceIP=10.0.0.1", 3, "ev-1", "ev-2", "ev-3");
        // A repeat of each era grows its own alert.
        await node.SendAsync(string.Join('\n', Event("failure", 3), Event("failure", 3503)));
        Assert.Equal([4L, 4L], (await AllAlertsAsync()).Select(a => a.Count));
    }

    protected const string ChainId = "00000000-0000-4000-8000-000000000011";

    /// <summary>Three failures in five minutes from one address (no alert of its own), then a success from it within ten.</summary>
    protected static string Chain => """
        title: Many failures
        id: 00000000-0000-4000-8000-000000000010
        name: many_failures
        correlation:
            type: event_count
            rules:
                - saw_failure
            group-by:
                - sourceIP
            timespan: 5m
            condition:
                gte: 3
        level: medium
        ---
        title: Failures then a success
        id: 00000000-0000-4000-8000-000000000011
        correlation:
            type: temporal_ordered
            rules:
                - many_failures
                - saw_success
            group-by:
                - sourceIP
            timespan: 10m
        level: high
        """ + Rules(string.Empty, "failure", "success");

    [Fact]
    public async Task A_chained_correlation_fires_on_its_inner_firing_and_the_later_rule()
    {
        var node = await StartNodeAsync(Chain);
        await node.SendAsync(string.Join('\n', Event("failure", 0), Event("failure", 10), Event("success", 15, "10.0.0.2"), Event("failure", 20)));
        Assert.Empty(await AllAlertsAsync());
        await node.SendAsync(Event("success", 30));
        var alert = Assert.Single(await AllAlertsAsync());
        Assert.Equal((ChainId, "sourceIP=10.0.0.1"), (alert.RuleId, alert.GroupKey));
        Assert.Equal(["ev-4", "ev-5"], alert.Events.Select(e => e.Id));
    }

    public virtual void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}

public sealed class SingleNodeDetectionStateCompliance : DetectionStateCompliance
{
    protected override ISharedDetectionState StateOf(int index) => new SingleNodeDetectionState();
}

public sealed class RedisDetectionStateCompliance : DetectionStateCompliance
{
    private readonly string _prefix = $"test:{Guid.NewGuid():N}:";
    private readonly ConnectionMultiplexer _redis = ConnectionMultiplexer.Connect(TestServers.Redis);

    protected override ISharedDetectionState StateOf(int index) =>
        new RedisDetectionState(_redis, $"node-{index}", new DetectionOptions().SuppressionWindow, new CorrelationOptions(), _prefix);

    [Fact]
    public async Task A_temporal_pattern_whose_events_reach_different_nodes_is_detected_once()
    {
        var rules = Rules(Correlation("temporal_ordered", """
                rules:
                    - saw_a
                    - saw_b
                    - saw_c
            """), "a", "b", "c");
        var first = await StartNodeAsync(rules, 0);
        var second = await StartNodeAsync(rules, 1);
        await first.SendAsync(Event("a", 0));
        await second.SendAsync(Event("b", 1));
        Assert.Empty(await AllAlertsAsync());
        await first.SendAsync(Event("c", 2));
        // The node that completed the pattern raised it, with the events both nodes saw.
        AssertAlert(Assert.Single(await first.ListAlertsAsync()), "sourceIP=10.0.0.1", 3, "ev-1", "ev-2", "ev-3");
        await second.SendAsync(Event("c", 3));
        Assert.Single(await AllAlertsAsync());
    }

    [Fact]
    public async Task An_event_another_node_added_before_the_window_filled_is_in_the_alert_of_the_node_that_filled_it()
    {
        var first = await StartNodeAsync(ThreeFailures, 0);
        var second = await StartNodeAsync(ThreeFailures, 1);
        await second.SendAsync(Event("failure", 20));
        await first.SendAsync(Event("failure", 0));
        Assert.Empty(await AllAlertsAsync());
        await first.SendAsync(Event("failure", 10));
        await second.SendAsync(Event("failure", 15));
        await first.IdleAsync();
        Assert.Empty(await second.ListAlertsAsync());
        AssertAlert(Assert.Single(await first.ListAlertsAsync()), "sourceIP=10.0.0.1", 4, "ev-2", "ev-3", "ev-1", "ev-4");
    }

    [Fact]
    public async Task A_replayed_event_counts_once_in_a_shared_window()
    {
        var rules = Rules(Correlation("event_count", """
                rules:
                    - saw_failure
                condition:
                    gte: 3
            """), "failure");
        var first = await StartNodeAsync(rules, 0);
        var second = await StartNodeAsync(rules, 1);
        var replayed = Event("failure", 0);
        await first.SendAsync(replayed);
        await second.SendAsync(replayed);
        await second.SendAsync(Event("failure", 1));
        Assert.Empty(await AllAlertsAsync());
        await first.SendAsync(Event("failure", 2));
        AssertAlert(Assert.Single(await AllAlertsAsync()), "sourceIP=10.0.0.1", 3, "ev-1", "ev-2", "ev-3");
    }

    [Fact]
    public async Task Events_reaching_a_node_that_does_not_own_the_alert_grow_the_owners_alert_once_each()
    {
        var rules = Rules(Correlation("event_count", """
                rules:
                    - saw_failure
                condition:
                    gte: 3
            """), "failure") + """

            ---
            title: Saw a tool
            id: 00000000-0000-4000-8000-0000000000ff
            logsource:
                product: test
            detection:
                selection:
                    eventType: tool
                condition: selection
            level: medium
            """;
        var owner = await StartNodeAsync(rules, 0);
        // The other node's first commit fails: the batch runs again, and forwards nothing twice.
        var other = await StartNodeAsync(rules, 1, store => new CommitFailingOnce(store));
        await owner.SendAsync(string.Join('\n', Event("failure", 0), Event("failure", 1), Event("failure", 2), Event("tool", 3)));
        await Assert.ThrowsAsync<IOException>(() => other.SendAsync(string.Join('\n', Event("failure", 4), Event("tool", 5))));
        await other.DetectPendingAsync();
        await other.SendAsync(Event("failure", 6));
        await owner.IdleAsync();

        Assert.Empty(await other.ListAlertsAsync());
        var alerts = (await owner.ListAlertsAsync()).ToDictionary(a => a.RuleId);
        AssertAlert(alerts["00000000-0000-4000-8000-000000000000"], "sourceIP=10.0.0.1", 5, "ev-1", "ev-2", "ev-3", "ev-5", "ev-7");
        AssertAlert(alerts["00000000-0000-4000-8000-0000000000ff"], null, 2, "ev-4", "ev-6");
        // Taken once: idle again, nothing more.
        await owner.IdleAsync();
        Assert.Equal(5, (await owner.ListAlertsAsync()).Single(a => a.GroupKey is not null).Count);
    }

    [Fact]
    public async Task A_window_judged_at_its_close_is_judged_once_over_the_events_of_every_node()
    {
        var rules = Rules(Correlation("value_avg", """
                rules:
                    - saw_upload
                condition:
                    field: bytes
                    gt: 100
            """), "upload") + "\n---\n" + Rules(Correlation("event_count", """
                rules:
                    - saw_login
                condition:
                    lt: 3
            """).Replace("Correlated event_count", "Few logins", StringComparison.Ordinal), "login");
        var keeper = await StartNodeAsync(rules, 0);
        // The other node's first commit fails: its batch runs again and forwards nothing twice.
        var other = await StartNodeAsync(rules, 1, store => new CommitFailingOnce(store));
        // Alone, each node's uploads average over 100 and each saw fewer than three logins.
        await keeper.SendAsync(string.Join('\n', Event("upload", 10, extra: ",\"bytes\":50"), Event("upload", 20, extra: ",\"bytes\":200"), Event("login", 21), Event("login", 22)));
        await Assert.ThrowsAsync<IOException>(() => other.SendAsync(string.Join('\n', Event("upload", 30, extra: ",\"bytes\":200"), Event("upload", 40, extra: ",\"bytes\":10"), Event("login", 41))));
        await other.DetectPendingAsync();
        await other.SendAsync(Event("other", 361));
        await keeper.SendAsync(Event("other", 361));

        // Together: one average of (50 + 200 + 200 + 10) / 4 = 115 over four uploads, and three logins.
        Assert.Empty(await other.ListAlertsAsync());
        AssertAlert(Assert.Single(await keeper.ListAlertsAsync()), "sourceIP=10.0.0.1", 4, "ev-1", "ev-2", "ev-5", "ev-6");
    }

    [Fact]
    public async Task A_chained_correlation_whose_events_reach_different_nodes_fires_once_on_the_node_keeping_the_chain()
    {
        var keeper = await StartNodeAsync(Chain, 0);
        var other = await StartNodeAsync(Chain, 1);
        await keeper.SendAsync(Event("failure", 0));
        await other.SendAsync(string.Join('\n', Event("failure", 10), Event("failure", 20), Event("success", 30)));
        Assert.Empty(await AllAlertsAsync());
        await keeper.IdleAsync();

        Assert.Empty(await other.ListAlertsAsync());
        var alert = Assert.Single(await keeper.ListAlertsAsync());
        Assert.Equal((ChainId, "sourceIP=10.0.0.1"), (alert.RuleId, alert.GroupKey));
        Assert.Equal(["ev-3", "ev-4"], alert.Events.Select(e => e.Id));
    }

    public override void Dispose()
    {
        _redis.Dispose();
        base.Dispose();
    }
}
