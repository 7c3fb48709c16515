namespace Hydrant.Tests.Detection;

public sealed class DetectorTests
{
    private const string BruteForceId = "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30";
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static string Failures(int from, int count) => string.Join('\n', Enumerable.Range(from, count).Select(i =>
        $$"""{"id":"f-{{i}}","timestamp":{{Now.ToUnixTimeMilliseconds() - 60_000 + i}},"eventType":"auth.failure","sourceIP":"203.0.113.5","logsource":{"product":"hydrant","service":"auth"} }"""));

    [Fact]
    public async Task A_batch_that_failed_is_detected_again_from_the_last_commit_so_no_event_counts_twice()
    {
        using var node = new DetectorNode(Now, wrapStore: store => new CommitFailingOnce(store));
        await node.StartAsync();

        // Six failures of the ten the built-in brute-force rule needs; the first commit fails.
        await Assert.ThrowsAsync<IOException>(() => node.SendAsync(Failures(0, 6)));
        await node.DetectPendingAsync();
        Assert.Empty(await node.ListAlertsAsync());

        await node.SendAsync(Failures(6, 4));
        var alert = Assert.Single(await node.ListAlertsAsync());
        Assert.Equal((BruteForceId, 10L), (alert.RuleId, alert.Count));
        Assert.Equal(1, node.Detector.AlertsRaised);
    }

    [Fact]
    public async Task A_batch_matched_on_every_core_raises_what_the_same_events_raise_in_small_batches()
    {
        // Failed logins from eight sources, interleaved, over ten minutes: brute forces that open,
        // grow and open again after the window, in one batch of 800 (matched in parallel) and in
        // batches of 10 (matched on the consumer's thread).
        var events = Enumerable.Range(0, 800).Select(i =>
            $$"""{"id":"p-{{i}}","timestamp":{{Now.ToUnixTimeMilliseconds() - 600_000 + (i * 700)}},"eventType":"auth.failure","sourceIP":"203.0.113.{{10 + (i % 8)}}","logsource":{"product":"hydrant","service":"auth"} }""").ToList();
        using var whole = new DetectorNode(Now);
        await whole.StartAsync();
        await whole.SendAsync(string.Join('\n', events));
        using var pieces = new DetectorNode(Now);
        await pieces.StartAsync();
        foreach (var chunk in events.Chunk(10))
        {
            await pieces.SendAsync(string.Join('\n', chunk));
        }

        static IEnumerable<(string, string?, long, string, string, string)> Shape(IEnumerable<Hydrant.Detection.Alerts.Alert> alerts) =>
            alerts.Select(a => (a.RuleId, a.GroupKey, a.Count, a.FirstSeen, a.LastSeen, string.Join(',', a.Events.Select(e => e.Id))))
                .OrderBy(a => a.GroupKey, StringComparer.Ordinal).ThenBy(a => a.FirstSeen, StringComparer.Ordinal);
        var expected = Shape(await pieces.ListAlertsAsync()).ToList();
        Assert.True(expected.Count >= 8, $"{expected.Count} alerts");
        Assert.Equal(expected, Shape(await whole.ListAlertsAsync()));
    }

    [Fact]
    public async Task An_alert_that_only_grew_since_it_opened_still_takes_repeats_after_a_restart()
    {
        using var node = new DetectorNode(Now);
        await node.StartAsync();
        await node.SendAsync(Failures(0, 10));
        // Batches that only update the open alert leave the stored open set as it was.
        await node.SendAsync(Failures(10, 5));
        await node.SendAsync(Failures(15, 5));

        node.RestartDetector();
        await node.StartAsync();
        await node.SendAsync(Failures(20, 5));

        var alert = Assert.Single(await node.ListAlertsAsync());
        Assert.Equal(BruteForceId, alert.RuleId);
        Assert.True(alert.Count > 10, $"the alert took no repeats: count {alert.Count}");
        Assert.Equal(0, node.Detector.AlertsRaised);
    }

    [Fact]
    public async Task A_repeat_of_a_closed_alerts_rule_and_group_opens_a_new_alert()
    {
        using var node = new DetectorNode(Now);
        await node.StartAsync();
        await node.SendAsync(Failures(0, 10));
        var first = Assert.Single(await node.ListAlertsAsync());

        // Acknowledged, it still grows; closed, the next failures are a new alert.
        await node.Triage.ChangeAsync(first.Id, null, Hydrant.Detection.Alerts.AlertChange.Of("2026-11-24T12:00:00.000Z", "test", status: "acknowledged"), CancellationToken.None);
        await node.SendAsync(Failures(10, 2));
        Assert.Equal(12, Assert.Single(await node.ListAlertsAsync()).Count);
        await node.Triage.ChangeAsync(first.Id, null, Hydrant.Detection.Alerts.AlertChange.Of("2026-11-24T12:00:01.000Z", "test", status: "closed", resolution: "true_positive"), CancellationToken.None);
        await node.SendAsync(Failures(12, 10));

        var alerts = await node.ListAlertsAsync();
        Assert.Equal(2, alerts.Count);
        Assert.Equal(12, alerts.Single(a => a.Id == first.Id).Count);
        Assert.True(alerts.Single(a => a.Id != first.Id).Count >= 10);

        // After a restart too: the restored open alerts are checked against their triage.
        node.RestartDetector();
        await node.StartAsync();
        await node.SendAsync(Failures(22, 1));
        Assert.Equal(2, (await node.ListAlertsAsync()).Count);
    }
}
