using System.Buffers;
using System.Globalization;
using System.Text;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Hunt;
using Hydrant.Detection.Sigma;
using Hydrant.Enrichment;
using Hydrant.Enrichment.Intel;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Detection.Testing;

/// <summary>A test's outcome: passed when nothing failed; each failure says what was expected and what happened.</summary>
public sealed record RuleTestResult(RuleTestCase Case, IReadOnlyList<string> Failures, TimeSpan Took)
{
    public bool Passed => Failures.Count == 0;
}

/// <summary>
/// Runs rule tests against a rule set as <c>hydrant serve</c> and <c>hunt</c> would load it: each
/// event parsed by its format's reader and enriched with the test's intel lists as ingest would,
/// then <c>match</c>/<c>nomatch</c> events evaluated alone against the rule (its filters applied),
/// and <c>events</c> fed in order through the hunter, detection and correlation, comparing the
/// alerts the rule raised with those expected.
/// </summary>
public sealed class RuleTestRunner(RuleSet rules, EventParser parser)
{
    public async Task<RuleTestResult> RunAsync(RuleTestCase test, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var failures = new List<string>();
        try
        {
            await RunAsync(test, failures, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One test that cannot run fails alone; the others still run.
            failures.Add($"the test could not run: {e.Message}");
        }
        return new RuleTestResult(test, failures, TimeProvider.System.GetElapsedTime(started));
    }

    private async Task RunAsync(RuleTestCase test, List<string> failures, CancellationToken cancellationToken)
    {
        if (test.Problem is { } problem)
        {
            failures.Add(problem);
            return;
        }
        // A title several rules share (one per level, say) names them all: any of them may match or raise.
        var targets = rules.Rules.Where(r => r.Rule.Id == test.Rule || r.Rule.Title == test.Rule).Select(r => r.Rule).ToList();
        var correlations = rules.Correlations.Where(c => c.Correlation.Id == test.Rule || c.Correlation.Title == test.Rule).Select(c => c.Correlation.Id).ToList();
        if (targets.Count == 0 && correlations.Count == 0)
        {
            var refused = rules.Refusals.FirstOrDefault(r => r.Id == test.Rule);
            failures.Add(refused is null ? $"no loaded rule has the id or title '{test.Rule}'" : $"the rule '{test.Rule}' was refused: {refused.Reason}");
            return;
        }
        using var enricher = new Enricher(null, null, IntelMatcher.Build(test.Intel), []);
        if (test.Match.Count + test.NoMatch.Count > 0)
        {
            if (targets.Count == 0)
            {
                failures.Add($"'{test.Rule}' is a correlation: test it with events and the alerts they raise, not match/nomatch");
            }
            else
            {
                foreach (var (json, n) in Canonical(test, test.Match, "match", enricher, failures).Select((j, i) => (j, i + 1)))
                {
                    using var view = new EventView(json);
                    if (!targets.Any(r => r.Matches(view)))
                    {
                        failures.Add($"match event {n} does not match the rule:\n    {Encoding.UTF8.GetString(json.Span)}");
                    }
                }
                foreach (var (json, n) in Canonical(test, test.NoMatch, "nomatch", enricher, failures).Select((j, i) => (j, i + 1)))
                {
                    using var view = new EventView(json);
                    if (targets.Any(r => r.Matches(view)))
                    {
                        failures.Add($"nomatch event {n} matches the rule:\n    {Encoding.UTF8.GetString(json.Span)}");
                    }
                }
            }
        }
        if (test.Events.Count > 0 && test.Alerts is { } expected)
        {
            var stream = Canonical(test, test.Events, "events", enricher, failures);
            var actual = await AlertsAsync(stream, [.. targets.Select(r => r.Id), .. correlations], cancellationToken);
            if (!Same(expected, actual))
            {
                failures.Add(Diff(expected, actual));
            }
        }
    }

    /// <summary>The records as the format's reader makes them, enriched; a record it rejects is a failure naming it.</summary>
    private List<ReadOnlyMemory<byte>> Canonical(RuleTestCase test, IReadOnlyList<string> records, string what, Enricher enricher, List<string> failures)
    {
        if (records.Count == 0)
        {
            return [];
        }
        var body = Encoding.UTF8.GetBytes(string.Join('\n', records.Select(r => r.ReplaceLineEndings(" "))));
        ParsedBatch batch;
        try
        {
            batch = parser.Parse(body, test.Options);
        }
        catch (EventParser.UnreadableBodyException e)
        {
            failures.Add($"{what}: {e.Message}");
            return [];
        }
        using var _ = batch;
        foreach (var rejection in batch.Rejections)
        {
            failures.Add($"{what} event {rejection.Index + 1} cannot be read: {rejection.Error}");
        }
        var (output, scratch) = (new ArrayBufferWriter<byte>(), new ArrayBufferWriter<byte>());
        var events = new List<ReadOnlyMemory<byte>>();
        foreach (var e in batch.Events.OrderBy(e => e.Index))
        {
            output.ResetWrittenCount();
            events.Add(enricher.TryEnrich(e.Json.Span, e.SourceIP, output, scratch) ? output.WrittenMemory.ToArray() : e.Json.ToArray());
        }
        return events;
    }

    /// <summary>The alerts of the rules under test the events raise, hunted in order as one stream.</summary>
    private async Task<List<Alert>> AlertsAsync(List<ReadOnlyMemory<byte>> events, HashSet<string> ruleIds, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Path.GetTempPath(), $"hydrant-rule-test-{Guid.NewGuid():N}.ndjson");
        try
        {
            await using (var stream = File.Create(file))
            {
                foreach (var e in events)
                {
                    await stream.WriteAsync(e, cancellationToken);
                    stream.WriteByte((byte)'\n');
                }
            }
            var alerts = new List<Alert>();
            var hunter = new Hunter(rules, parser, new ParseOptions { KeepEnrichment = true }) { Workers = 1 };
            await hunter.RunAsync([file], alert =>
            {
                if (ruleIds.Contains(alert.RuleId))
                {
                    alerts.Add(alert);
                }
                return ValueTask.CompletedTask;
            }, null, cancellationToken);
            return alerts;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static bool Same(IReadOnlyList<ExpectedAlert> expected, List<Alert> actual) =>
        expected.Count == actual.Count && expected.Zip(actual).All(p =>
            (p.First.Count is null || p.First.Count == p.Second.Count)
            && (p.First.GroupKey is null || p.First.GroupKey == p.Second.GroupKey)
            && (p.First.Level is null || p.First.Level == p.Second.Level));

    /// <summary>Expected and actual alerts one per line, <c>-</c> for an expected one not raised as such, <c>+</c> for a raised one not expected as such.</summary>
    private static string Diff(IReadOnlyList<ExpectedAlert> expected, List<Alert> actual)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"alerts differ: expected {expected.Count}, raised {actual.Count}");
        for (var i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            var want = i < expected.Count ? expected[i] : null;
            var got = i < actual.Count ? actual[i] : null;
            var same = want is not null && got is not null && Same([want], [got]);
            if (want is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  {(same ? ' ' : '-')} {Describe(want.Count, want.GroupKey, want.Level)}");
            }
            if (got is not null && !same)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  + {Describe(got.Count, got.GroupKey, got.Level)}  (events {string.Join(", ", got.Events.Take(5).Select(e => e.Id))}{(got.Events.Count > 5 ? ", ..." : "")})");
            }
        }
        return text.ToString();
    }

    private static string Describe(long? count, string? groupKey, string? level) =>
        string.Join(", ", new[] { count is { } c ? $"count: {c}" : null, groupKey is { } g ? $"groupKey: {g}" : null, level is { } l ? $"level: {l}" : null }.OfType<string>().DefaultIfEmpty("any alert"));
}
