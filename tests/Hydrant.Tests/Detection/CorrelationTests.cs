using System.Text.Json;
using System.Text.RegularExpressions;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;

namespace Hydrant.Tests.Detection;

/// <summary>Correlation rules per sigma-correlation-rules-specification: every type, the edges of timespan and group-by, aliases, chains, lateness.</summary>
public sealed partial class CorrelationTests
{
    private static readonly SigmaCompiler Compiler = new(SigmaOptions.Default);
    private static readonly long T0 = new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private const string Failure = """
        title: Failed login
        id: 00000000-0000-4000-8000-000000000001
        name: failed_login
        logsource:
            product: test
        detection:
            selection:
                action: fail
            condition: selection
        """;

    private const string Success = """
        title: Successful login
        id: 00000000-0000-4000-8000-000000000002
        name: successful_login
        logsource:
            product: test
        detection:
            selection:
                action: ok
            condition: selection
        """;

    private static string Correlation(string type, string body, string groupBy = "[user]", string timespan = "1m", string rules = "[failed_login]") => $"""
        title: {type} correlation
        id: 00000000-0000-4000-8000-0000000000ff
        correlation:
            type: {type}
            rules: {rules}
            group-by: {groupBy}
            timespan: {timespan}
        {Indent(body)}
        level: high
        """;

    private static string Indent(string body) => string.Join('\n', body.Split('\n').Select(l => "    " + l));

    private static string Event(long ms, string action, string user = "alice", string? port = null, double? bytes = null, string id = "")
    {
        var fields = new Dictionary<string, object> { ["id"] = id, ["timestamp"] = Timestamps.ToText(ms), ["eventType"] = "login", ["sourceIP"] = "10.0.0.1", ["logsource"] = new { product = "test" }, ["action"] = action, ["user"] = user };
        if (port is not null)
        {
            fields["port"] = port;
        }
        if (bytes is not null)
        {
            fields["bytes"] = bytes;
        }
        return JsonSerializer.Serialize(fields);
    }

    /// <summary>The detector's loop over a rule set: single-rule alerts and correlation firings, in arrival order.</summary>
    private sealed class Run
    {
        private readonly RuleSet _rules;

        public Run(RuleSet rules, CorrelationOptions? options = null)
        {
            _rules = rules;
            Engine = new CorrelationEngine(options ?? new CorrelationOptions { AllowedLateness = TimeSpan.Zero });
            Engine.Use(rules.Plan);
        }

        public Run(params string[] yaml)
            : this(Load(yaml))
        {
        }

        public CorrelationEngine Engine { get; }
        public List<string> RuleAlerts { get; } = [];
        public List<CorrelationFiring> Firings { get; } = [];

        public Run Feed(params string[] events)
        {
            foreach (var json in events)
            {
                using var view = new EventView(JsonSerializer.SerializeToUtf8Bytes(JsonDocument.Parse(json).RootElement));
                using var document = JsonDocument.Parse(json);
                var ms = Timestamps.ParseCanonical(document.RootElement.GetProperty("timestamp").GetString()!);
                var behind = new AlertEvent(document.RootElement.GetProperty("id").GetString()!, Timestamps.ToText(ms), "login", "10.0.0.1");
                var hits = new List<CorrelationHit>();
                foreach (var rule in _rules.Matching(view))
                {
                    if (_rules.Plan.RaisesAlerts(rule))
                    {
                        RuleAlerts.Add(rule.Id);
                    }
                    CorrelationHit.Extract(_rules.Plan, rule, view, behind, ms, hits);
                }
                Engine.Observe(hits, ms, Firings);
            }
            return this;
        }

        public List<CorrelationFiring> Alerting => [.. Firings.Where(f => f.Node.RaisesAlerts)];
    }

    private static RuleSet Load(params string[] yaml)
    {
        var documents = yaml.SelectMany((text, i) => Compiler.CompileAll(text).Select(d => new LoadedDocument(d, $"test{i}"))).ToList();
        var set = new RuleSet(documents, []);
        Assert.Empty(set.Refusals);
        return set;
    }

    private static string Refusal(params string[] yaml)
    {
        var documents = yaml.SelectMany((text, i) => Compiler.CompileAll(text).Select(d => new LoadedDocument(d, $"test{i}"))).ToList();
        return Assert.Single(new RuleSet(documents, []).Refusals).Reason;
    }

    private static string[] Failures(params long[] offsetsMs) => [.. offsetsMs.Select((o, i) => Event(T0 + o, "fail", id: $"f{i}"))];

    [Fact]
    public void Every_correlation_yaml_of_the_specification_tests_compiles_with_its_type_grouping_timespan_and_condition()
    {
        var folder = Corpus.Path("sigma", "specification", "tests", "schema", "correlation");
        var compiled = Directory.GetFiles(folder, "*.yml").Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f)!, f => Assert.IsType<SigmaCorrelation>(Assert.Single(Compiler.CompileAll(File.ReadAllText(f)))));
        Assert.Equal(8, compiled.Count);
        Assert.Equal((CorrelationType.EventCount, TimeSpan.FromHours(1)), (compiled["event_count"].Type, compiled["event_count"].Timespan));
        Assert.Equal(["dns.question.name"], compiled["event_count_ecs"].GroupBy);
        Assert.Equal(new CorrelationBound("gte", 100), Assert.Single(compiled["value_count"].Condition));
        Assert.Equal(("User", TimeSpan.FromDays(1)), (compiled["value_count"].Field, compiled["value_count"].Timespan));
        Assert.Equal(["recon_cmd_a", "recon_cmd_b", "recon_cmd_c"], compiled["temporal_ordered"].Rules);
        Assert.Equal(["ComputerName", "User"], compiled["temporal"].GroupBy);
        Assert.Empty(compiled["temporal"].Condition);
        Assert.Equal((CorrelationType.ValueSum, "bytes_sent"), (compiled["value_sum"].Type, compiled["value_sum"].Field));
        Assert.Equal((CorrelationType.ValueAvg, new CorrelationBound("gt", 500)), (compiled["value_avg"].Type, Assert.Single(compiled["value_avg"].Condition)));
        Assert.Equal((CorrelationType.ValuePercentile, new CorrelationBound("lte", 1)), (compiled["value_percentile"].Type, Assert.Single(compiled["value_percentile"].Condition)));
    }

    [GeneratedRegex(@"### Failed Logins Followed by Successful Login.*?```yml\n(?<yaml>.*?)```", RegexOptions.Singleline)]
    private static partial Regex SpecificationExample();

    [Fact]
    public void The_specification_example_chain_fires_on_ten_failures_then_a_success_and_only_the_outer_correlation_alerts()
    {
        var markdown = File.ReadAllText(Corpus.Path("sigma", "specification", "specification", "sigma-correlation-rules-specification.md"));
        var yaml = SpecificationExample().Match(markdown).Groups["yaml"].Value;
        var documents = Compiler.CompileAll(yaml);
        Assert.Equal(4, documents.Count);
        var rules = Load(yaml);
        string Logon(long ms, int eventId, string user) => JsonSerializer.Serialize(new
        {
            id = $"w{ms}",
            timestamp = Timestamps.ToText(ms),
            eventType = "logon",
            sourceIP = "10.1.1.1",
            logsource = new { product = "windows", service = "security" },
            EventID = eventId,
            User = user,
        });

        var nine = new Run(rules).Feed([.. Enumerable.Range(0, 9).Select(i => Logon(T0 + (i * 1000), 4625, "bob")), Logon(T0 + 20_000, 4624, "bob")]);
        Assert.Empty(nine.Alerting);

        var run = new Run(rules).Feed([.. Enumerable.Range(0, 10).Select(i => Logon(T0 + (i * 1000), 4625, "bob")), Logon(T0 + 30_000, 4624, "mallory"), Logon(T0 + 40_000, 4624, "bob")]);
        var firing = Assert.Single(run.Alerting);
        Assert.Equal("b180ead8-d58f-40b2-ae54-c8940995b9b6", firing.Node.Correlation.Id);
        Assert.Equal("User=bob", firing.GroupKey);
        Assert.Empty(run.RuleAlerts); // the referenced rules do not alert on their own (no 'generate')
        Assert.Contains(run.Firings, f => f.Node.Correlation.Name == "multiple_failed_login" && !f.Node.RaisesAlerts);
    }

    [Fact]
    public void Event_count_counts_events_exactly_timespan_apart_as_within_it()
    {
        var gte3 = Correlation("event_count", "condition:\n    gte: 3");
        Assert.Single(new Run(Failure, gte3).Feed(Failures(0, 30_000, 60_000)).Alerting);
        Assert.Empty(new Run(Failure, gte3).Feed(Failures(0, 30_000, 60_001)).Alerting);
    }

    [Fact]
    public void Event_count_keeps_groups_apart_and_skips_events_without_the_group_by_field()
    {
        var gte3 = Correlation("event_count", "condition:\n    gte: 3");
        var split = new Run(Failure, gte3).Feed(Event(T0, "fail", "alice"), Event(T0 + 1, "fail", "bob"), Event(T0 + 2, "fail", "alice"), Event(T0 + 3, "fail", "bob"));
        Assert.Empty(split.Alerting);

        var noUser = JsonSerializer.Serialize(new { id = "x", timestamp = Timestamps.ToText(T0 + 4), logsource = new { product = "test" }, action = "fail" });
        Assert.Empty(new Run(Failure, gte3).Feed(Event(T0, "fail"), Event(T0 + 1, "fail"), noUser).Alerting);

        var grouped = new Run(Failure, Correlation("event_count", "condition:\n    gte: 2", groupBy: "[user, port]"))
            .Feed(Event(T0, "fail", port: "22"), Event(T0 + 1, "fail", port: "2222"), Event(T0 + 2, "fail", port: "22"));
        Assert.Equal("user=alice, port=22", Assert.Single(grouped.Alerting).GroupKey);
    }

    [Fact]
    public void A_correlation_without_group_by_counts_all_events_as_one_group()
    {
        var run = new Run(Failure, Correlation("event_count", "condition:\n    gte: 3", groupBy: "[]"))
            .Feed(Event(T0, "fail", "a"), Event(T0 + 1, "fail", "b"), Event(T0 + 2, "fail", "c"));
        Assert.Null(Assert.Single(run.Alerting).GroupKey);
    }

    [Fact]
    public void Later_events_that_keep_the_condition_true_fire_again_with_only_the_new_events()
    {
        var run = new Run(Failure, Correlation("event_count", "condition:\n    gte: 3")).Feed(Failures(0, 1000, 2000, 3000, 4000));
        Assert.Equal([3L, 1, 1], run.Alerting.Select(f => f.Count));
        Assert.Equal(["f0", "f1", "f2"], run.Alerting[0].Events.Select(e => e.Id));
        Assert.Equal(5, run.Alerting.Sum(f => f.Count));
    }

    [Fact]
    public void Range_conditions_are_judged_when_the_aligned_window_closes()
    {
        // gt 1 and lte 3: two or three failures in one aligned minute; four is too many.
        var range = Correlation("event_count", "condition:\n    gt: 1\n    lte: 3");
        var three = new Run(Failure, range).Feed(Failures(0, 10_000, 20_000));
        Assert.Empty(three.Alerting); // the window is still open
        three.Feed(Event(T0 + 60_000, "ok"));
        Assert.Equal(3, Assert.Single(three.Alerting).Count);

        var four = new Run(Failure, range).Feed([.. Failures(0, 10_000, 20_000, 30_000), Event(T0 + 60_000, "ok")]);
        Assert.Empty(four.Alerting);

        // Aligned windows: events either side of a minute boundary are in different windows.
        var split = new Run(Failure, Correlation("event_count", "condition:\n    eq: 2")).Feed([.. Failures(59_000, 61_000), Event(T0 + 180_000, "ok")]);
        Assert.Empty(split.Alerting);
    }

    [Fact]
    public void Value_count_counts_distinct_values_of_the_field()
    {
        var ports = Correlation("value_count", "condition:\n    field: port\n    gte: 3");
        Assert.Empty(new Run(Failure, ports).Feed(Event(T0, "fail", port: "22"), Event(T0 + 1, "fail", port: "22"), Event(T0 + 2, "fail", port: "80"), Event(T0 + 3, "fail", port: "80")).Alerting);
        var run = new Run(Failure, ports).Feed(Event(T0, "fail", port: "22"), Event(T0 + 1, "fail", port: "22"), Event(T0 + 2, "fail", port: "80"), Event(T0 + 3, "fail", port: "443"));
        Assert.Equal(4, Assert.Single(run.Alerting).Count);
    }

    [Fact]
    public void Value_count_slides_the_window_past_old_values()
    {
        var ports = Correlation("value_count", "condition:\n    field: port\n    gte: 3");
        var run = new Run(Failure, ports).Feed(Event(T0, "fail", port: "1"), Event(T0 + 50_000, "fail", port: "2"), Event(T0 + 70_000, "fail", port: "3"), Event(T0 + 100_000, "fail", port: "4"));
        Assert.Equal(["T0+50s", "T0+70s", "T0+100s"], Assert.Single(run.Alerting).Events.Select(e => Label(e)));
    }

    private static string Label(AlertEvent e) => $"T0+{(Timestamps.ParseCanonical(e.Timestamp) - T0) / 1000}s";

    [Fact]
    public void Temporal_needs_every_rule_within_the_timespan_in_any_order()
    {
        var temporal = Correlation("temporal", string.Empty, rules: "[failed_login, successful_login]");
        Assert.Single(new Run(Failure, Success, temporal).Feed(Event(T0, "ok"), Event(T0 + 60_000, "fail")).Alerting);
        Assert.Empty(new Run(Failure, Success, temporal).Feed(Event(T0, "ok"), Event(T0 + 60_001, "fail")).Alerting);
        Assert.Empty(new Run(Failure, Success, temporal).Feed(Event(T0, "ok"), Event(T0 + 1, "fail", user: "bob")).Alerting);
    }

    [Fact]
    public void Temporal_ordered_needs_the_rules_in_the_order_listed()
    {
        var ordered = Correlation("temporal_ordered", string.Empty, rules: "[failed_login, successful_login]");
        Assert.Empty(new Run(Failure, Success, ordered).Feed(Event(T0, "ok"), Event(T0 + 1000, "fail")).Alerting);
        var run = new Run(Failure, Success, ordered).Feed(Event(T0, "ok", id: "s0"), Event(T0 + 1000, "fail", id: "f1"), Event(T0 + 2000, "ok", id: "s2"));
        Assert.Equal(["f1", "s2"], Assert.Single(run.Alerting).Events.Select(e => e.Id));
    }

    [Fact]
    public void Value_sum_fires_once_the_sum_in_the_window_passes_the_bound()
    {
        var sum = Correlation("value_sum", "condition:\n    field: bytes\n    gt: 1000");
        var run = new Run(Failure, sum).Feed(Event(T0, "fail", bytes: 400), Event(T0 + 1000, "fail", bytes: 600), Event(T0 + 2000, "fail", bytes: 1));
        Assert.Equal([3L], run.Alerting.Select(f => f.Count)); // 400 + 600 is not > 1000; + 1 is
        Assert.Empty(new Run(Failure, sum).Feed(Event(T0, "fail", bytes: 600), Event(T0 + 60_001, "fail", bytes: 600)).Alerting);
    }

    [Fact]
    public void Value_avg_is_judged_on_the_closed_window()
    {
        var avg = Correlation("value_avg", "condition:\n    field: bytes\n    gt: 500");
        var run = new Run(Failure, avg).Feed(Event(T0, "fail", bytes: 100), Event(T0 + 1000, "fail", bytes: 1000));
        Assert.Empty(run.Alerting);
        run.Feed(Event(T0 + 60_000, "ok"));
        Assert.Single(run.Alerting); // (100 + 1000) / 2 = 550
        var low = new Run(Failure, avg).Feed(Event(T0, "fail", bytes: 100), Event(T0 + 1000, "fail", bytes: 800), Event(T0 + 120_000, "ok"));
        Assert.Empty(low.Alerting); // 450
    }

    [Fact]
    public void Value_percentile_fires_for_each_value_rarer_than_the_bound_with_the_value_in_the_group_key()
    {
        var rare = Correlation("value_percentile", "condition:\n    field: port\n    lte: 10");
        var events = Enumerable.Range(0, 19).Select(i => Event(T0 + i, "fail", port: "443")).Append(Event(T0 + 20, "fail", port: "31337")).Append(Event(T0 + 60_000, "ok")).ToArray();
        var firing = Assert.Single(new Run(Failure, rare).Feed(events).Alerting);
        Assert.Equal("user=alice, port=31337", firing.GroupKey); // 1 of 20 = 5 %
        Assert.Equal(1, firing.Count);
    }

    [Fact]
    public void An_event_arriving_late_still_counts_with_the_window_mates_still_kept()
    {
        var gte3 = Load(Failure, Correlation("event_count", "condition:\n    gte: 3"));
        var options = new CorrelationOptions { AllowedLateness = TimeSpan.FromSeconds(30) };
        // The stragglers' window-mates arrived recently (in the stream clock): they correlate.
        var late = new Run(gte3, options).Feed(Event(T0 + 40_000, "fail"), Event(T0 + 50_000, "fail"), Event(T0 + 19_999, "fail"));
        Assert.Single(late.Alerting);
        Assert.Equal(0, late.Engine.LateHits);

        // Once the stream clock has moved on past timespan + lateness, what arrived then is gone.
        var gone = new Run(gte3, options).Feed(Event(T0, "fail"), Event(T0 + 1000, "fail"), Event(T0 + 200_000, "ok", user: "other"), Event(T0 + 2000, "fail"));
        Assert.Empty(gone.Alerting);
    }

    [Fact]
    public void One_future_dated_event_moves_neither_time_nor_the_windows_of_a_brute_force_after_it()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(T0 + 60_000);
        var options = new CorrelationOptions { AllowedLateness = TimeSpan.FromSeconds(60), WallClock = new FixedClock(now) };
        var gte10 = Correlation("event_count", "condition:\n    gte: 10", timespan: "5m");
        foreach (var outlierUser in new[] { "mallory", "alice" })
        {
            // 14 minutes ahead, inside the accepted skew: of another group, or of the attacker's own.
            var run = new Run(Load(Failure, gte10), options).Feed(Event(T0 + (14 * 60_000), "fail", user: outlierUser, id: "future"));
            Assert.True(run.Engine.Watermark <= now.ToUnixTimeMilliseconds(), "the stream clock stays at the wall clock");
            run.Feed(Failures([.. Enumerable.Range(0, 10).Select(i => (long)i * 1000)]));
            var firing = Assert.Single(run.Alerting);
            Assert.Equal("user=alice", firing.GroupKey);
            Assert.Equal(10, firing.Events.Count(e => e.Id.StartsWith('f')));
        }
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("bob")]
    public void A_replay_of_older_events_after_live_traffic_raises_what_it_raises_on_a_fresh_engine(string liveUser)
    {
        var rules = Load(Failure, Success, Correlation("event_count", "condition:\n    gte: 3", timespan: "5m"),
            Correlation("event_count", "condition:\n    lt: 2", timespan: "5m").Replace("00ff", "00fd", StringComparison.Ordinal));
        var day = 86_400_000L;
        // Live traffic now, in the replay's group (alice) or another; the replay is a day older.
        var live = Enumerable.Range(0, 20).Select(i => Event(T0 + (i * 30_000), i % 4 == 0 ? "ok" : "fail", user: liveUser, id: $"l{i}")).ToArray();
        var replay = Enumerable.Range(0, 30).Select(i => Event(T0 - day + (i * 20_000), i % 5 == 0 ? "ok" : "fail", user: "alice", id: $"r{i}")).ToArray();
        static string Describe(CorrelationFiring f) => $"{f.Node.Correlation.Id} {f.GroupKey} {f.Count} {string.Join(',', f.Events.Select(e => e.Id))}";

        var fresh = new Run(rules).Feed(replay);
        fresh.Engine.Flush(fresh.Firings);
        Assert.NotEmpty(fresh.Alerting);

        var afterLive = new Run(rules).Feed(live);
        var liveFirings = afterLive.Alerting.Count;
        afterLive.Feed(replay);
        afterLive.Engine.Flush(afterLive.Firings);
        var replayed = afterLive.Alerting.Where(f => f.Events.All(e => e.Id.StartsWith('r'))).Select(Describe).Order(StringComparer.Ordinal);
        Assert.Equal(fresh.Alerting.Select(Describe).Order(StringComparer.Ordinal), replayed);
        Assert.True(liveFirings > 0, "the live traffic raised its own");
        Assert.Equal(0, afterLive.Engine.LateHits);
    }

    [Fact]
    public void An_event_for_a_window_already_judged_is_late_and_counted_per_correlation()
    {
        var lt3 = Load(Failure, Success, Correlation("event_count", "condition:\n    lt: 3"));
        var run = new Run(lt3).Feed(Event(T0 + 1000, "fail"), Event(T0 + 200_000, "ok", user: "other"));
        Assert.Single(run.Alerting); // one failure in [T0, T0 + 1m): fewer than three
        run.Feed(Event(T0 + 2000, "fail"), Event(T0 + 3000, "fail"));
        Assert.Single(run.Alerting); // not judged again over the stragglers alone
        Assert.Equal(2, run.Engine.LateHits);
        Assert.Equal(2, run.Engine.LateByCorrelation["00000000-0000-4000-8000-0000000000ff"]);
    }

    [Fact]
    public void A_closing_window_waits_for_the_allowed_lateness()
    {
        var eq2 = Load(Failure, Correlation("event_count", "condition:\n    eq: 2"));
        var run = new Run(eq2, new CorrelationOptions { AllowedLateness = TimeSpan.FromSeconds(30) });
        run.Feed([.. Failures(0, 10_000), Event(T0 + 89_999, "ok")]);
        Assert.Empty(run.Alerting);
        run.Feed(Event(T0 + 90_000, "ok"));
        Assert.Single(run.Alerting);
    }

    [Fact]
    public void Aliases_group_events_of_different_rules_by_differently_named_fields()
    {
        const string internalError = """
            title: Internal error
            name: internal_error
            logsource:
                product: test
            detection:
                selection:
                    status: 500
                condition: selection
            """;
        const string connection = """
            title: New connection
            name: new_network_connection
            logsource:
                product: test
            detection:
                selection:
                    action: connect
                condition: selection
            """;
        const string correlation = """
            title: Error then connection back
            correlation:
                type: temporal
                rules:
                    - internal_error
                    - new_network_connection
                group-by:
                    - internal_ip
                    - remote_ip
                timespan: 10s
                aliases:
                    internal_ip:
                        internal_error: destination.ip
                        new_network_connection: source.ip
                    remote_ip:
                        internal_error: source.ip
                        new_network_connection: destination.ip
            """;
        string Http(long ms, string src, string dst) => JsonSerializer.Serialize(new { id = "h", timestamp = Timestamps.ToText(ms), logsource = new { product = "test" }, status = 500, source = new { ip = src }, destination = new { ip = dst } });
        string Connect(long ms, string src, string dst) => JsonSerializer.Serialize(new { id = "c", timestamp = Timestamps.ToText(ms), logsource = new { product = "test" }, action = "connect", source = new { ip = src }, destination = new { ip = dst } });

        var run = new Run(internalError, connection, correlation).Feed(Http(T0, "203.0.113.9", "10.0.0.5"), Connect(T0 + 5000, "10.0.0.5", "203.0.113.9"));
        Assert.Equal("internal_ip=10.0.0.5, remote_ip=203.0.113.9", Assert.Single(run.Alerting).GroupKey);
        Assert.Empty(new Run(internalError, connection, correlation).Feed(Http(T0, "203.0.113.9", "10.0.0.5"), Connect(T0 + 5000, "10.0.0.6", "203.0.113.9")).Alerting);
    }

    [Fact]
    public void Generate_true_lets_the_related_rules_alert_on_their_own_too()
    {
        var quiet = new Run(Failure, Correlation("event_count", "condition:\n    gte: 2")).Feed(Failures(0, 1));
        Assert.Empty(quiet.RuleAlerts);
        var loud = new Run(Failure, Correlation("event_count", "condition:\n    gte: 2") + "\ngenerate: true").Feed(Failures(0, 1));
        Assert.Equal(2, loud.RuleAlerts.Count);
        Assert.Single(loud.Alerting);
    }

    [Theory]
    [InlineData("type: event_count\n    rules: [failed_login]\n    timespan: 5w\n    condition: {gte: 1}", "timespan '5w'")]
    [InlineData("type: event_count\n    rules: [failed_login]\n    timespan: 5m", "needs a 'condition'")]
    [InlineData("type: value_count\n    rules: [failed_login]\n    timespan: 5m\n    condition: {gte: 2}", "needs 'field'")]
    [InlineData("type: temporal_ordered\n    rules: [failed_login, successful_login]\n    timespan: 5m\n    condition: {gte: 2}", "temporal_ordered takes no condition")]
    [InlineData("type: temporal\n    rules: [failed_login]\n    timespan: 5m", "at least two rules")]
    [InlineData("type: event_sum\n    rules: [failed_login]\n    timespan: 5m", "correlation type 'event_sum'")]
    [InlineData("type: event_count\n    rules: [failed_login]\n    timespan: 5m\n    condition: {about: 3}", "'about' is not a condition operator")]
    public void A_malformed_correlation_is_refused_with_the_reason_and_its_line(string body, string reason)
    {
        var error = Assert.Throws<SigmaException>(() => Compiler.CompileAll($"title: bad\ncorrelation:\n    {body}\n"));
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.True(error.Line >= 2);
    }

    [Fact]
    public void A_correlation_naming_no_loaded_rule_or_relating_itself_is_refused()
    {
        Assert.Contains("names rule 'nothing_here', which is not loaded", Refusal(Failure, Correlation("event_count", "condition:\n    gte: 2", rules: "[nothing_here]")), StringComparison.Ordinal);
        const string a = "title: A\nname: a\ncorrelation:\n    type: event_count\n    rules: [b]\n    group-by: [user]\n    timespan: 1m\n    condition: {gte: 2}\n";
        const string b = "title: B\nname: b\ncorrelation:\n    type: event_count\n    rules: [a]\n    group-by: [user]\n    timespan: 1m\n    condition: {gte: 2}\n";
        var documents = Compiler.CompileAll(a).Concat(Compiler.CompileAll(b)).Select(d => new LoadedDocument(d, "t")).ToList();
        var refusals = new RuleSet(documents, []).Refusals;
        Assert.Equal(2, refusals.Count);
        Assert.All(refusals, r => Assert.Contains("relates itself", r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void A_chained_correlation_may_only_group_by_what_the_inner_one_groups_by()
    {
        var inner = Correlation("event_count", "condition:\n    gte: 2").Replace("00ff", "00fe", StringComparison.Ordinal).Replace("title: event_count correlation", "title: inner\nname: inner", StringComparison.Ordinal);
        const string outer = "title: outer\ncorrelation:\n    type: event_count\n    rules: [inner]\n    group-by: [host]\n    timespan: 1h\n    condition: {gte: 2}\n";
        Assert.Contains("uses field 'host' of correlation 'inner'", Refusal(Failure, inner, outer), StringComparison.Ordinal);
    }

    [Fact]
    public void Window_state_saved_mid_stream_and_restored_gives_the_same_firings_as_an_uninterrupted_run()
    {
        var rules = Load(Failure, Success, Correlation("event_count", "condition:\n    gte: 3"), Correlation("value_avg", "condition:\n    field: bytes\n    gt: 10").Replace("00ff", "00fd", StringComparison.Ordinal));
        var events = Enumerable.Range(0, 40).Select(i => Event(T0 + (i * 7_000), i % 5 == 0 ? "ok" : "fail", user: i % 3 == 0 ? "bob" : "alice", bytes: i, id: $"e{i}")).ToArray();
        static string Describe(CorrelationFiring f) => $"{f.Node.Correlation.Id} {f.GroupKey} {f.Count} {string.Join(',', f.Events.Select(e => e.Id))}";

        var whole = new Run(rules).Feed(events);
        Assert.NotEmpty(whole.Alerting);

        var first = new Run(rules).Feed(events[..17]);
        var saved = first.Engine.TakeChanges().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!);
        var second = new Run(rules);
        second.Engine.Restore(saved);
        second.Feed(events[17..]);
        Assert.Equal(whole.Alerting.Select(Describe), first.Alerting.Concat(second.Alerting).Select(Describe));
    }

    [Fact]
    public void A_batch_commits_only_the_hits_it_changed_not_the_whole_group()
    {
        var rules = Load(Failure, Correlation("event_count", "condition:\n    gte: 1000", timespan: "1h"));
        var run = new Run(rules).Feed([.. Enumerable.Range(0, 200).Select(i => Event(T0 + (i * 1000), "fail", id: $"a{i}"))]);
        var first = run.Engine.TakeChanges();
        Assert.Equal(200, first.Keys.Count(k => k.StartsWith("h\n", StringComparison.Ordinal)));

        run.Feed(Event(T0 + 300_000, "fail", id: "one-more"));
        var next = run.Engine.TakeChanges();
        Assert.Equal(1, next.Keys.Count(k => k.StartsWith("h\n", StringComparison.Ordinal)));
        Assert.Equal(3, next.Count); // the hit, its group, the clock

        // The pieces restore the whole group of 201: 799 more make the 1,000 that fire.
        var saved = first.Concat(next).GroupBy(p => p.Key).Select(g => g.Last()).Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!);
        var restored = new Run(rules);
        restored.Engine.Restore(saved);
        restored.Feed([.. Enumerable.Range(0, 799).Select(i => Event(T0 + 400_000 + i, "fail", id: $"b{i}"))]);
        var firing = Assert.Single(restored.Alerting);
        Assert.Equal(1000, firing.Count);
    }

    [Fact]
    public void A_group_an_earlier_build_saved_whole_as_json_is_read_and_written_again_in_pieces()
    {
        var rules = Load(Failure, Correlation("event_count", "condition:\n    gte: 3"));
        var definition = ((SigmaCorrelation)rules.Correlations[0].Correlation).Definition;
        var hits = string.Join(',', Enumerable.Range(0, 2).Select(i =>
            $$$"""{"ms":{{{T0 + (i * 1000)}}},"member":0,"value":null,"number":0,"event":{"id":"old{{{i}}}","timestamp":"{{{Timestamps.ToText(T0 + (i * 1000))}}}","eventType":"login","sourceIP":"10.0.0.1"}}"""));
        var json = System.Text.Encoding.UTF8.GetBytes($$"""{"definition":{{JsonSerializer.Serialize(definition)}},"values":["alice"],"hits":[{{hits}}]}""");
        var run = new Run(rules);
        run.Engine.Restore(new Dictionary<string, byte[]> { ["00000000-0000-4000-8000-0000000000ff\nuser=alice"] = json, ["watermark"] = BitConverter.GetBytes(T0 + 1000) });
        Assert.Equal(2, run.Engine.TakeChanges().Keys.Count(k => k.StartsWith("h\n", StringComparison.Ordinal)));
        run.Feed(Event(T0 + 2000, "fail", id: "new"));
        Assert.Equal(["old0", "old1", "new"], Assert.Single(run.Alerting).Events.Select(e => e.Id));
    }

    [Fact]
    public void State_of_a_correlation_that_was_removed_or_redefined_is_dropped()
    {
        var rules = Load(Failure, Correlation("event_count", "condition:\n    gte: 3"));
        var run = new Run(rules).Feed(Failures(0, 1));
        var saved = run.Engine.TakeChanges().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!);

        var redefined = new Run(Load(Failure, Correlation("event_count", "condition:\n    gte: 2")));
        redefined.Engine.Restore(saved);
        Assert.Equal(0, redefined.Engine.OpenGroups);
        Assert.Contains(redefined.Engine.TakeChanges(), p => p.Value is null && p.Key.StartsWith("00000000-0000-4000-8000-0000000000ff\n", StringComparison.Ordinal));
    }
}
