using Hydrant.Detection.Alerts;
using Hydrant.DynamoDb;
using Hydrant.Testing;
using Hydrant.Tests.RocksDb;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hydrant.Tests.Compliance;

/// <summary>What every place that keeps alert triage answers, run against each backend on a real engine.</summary>
public abstract class AlertTriageCompliance : IDisposable
{
    /// <summary>Two views of one triage store, as two nodes (or one, twice) have.</summary>
    protected abstract (IAlertTriage First, IAlertTriage Second) Triage { get; }

    private static AlertChange Change(string? status = null, string? resolution = null, string? assignee = null, string? note = null) =>
        AlertChange.Of("2026-11-24T12:00:00.000Z", "analyst", status, resolution, assignee, note);

    [Fact]
    public async Task Changes_build_the_state_and_its_history_and_a_stale_version_changes_nothing()
    {
        var (triage, _) = Triage;
        var id = Ulid.NewUlid().ToString();
        Assert.Empty(await triage.GetAsync([id], CancellationToken.None));

        var acked = await triage.ChangeAsync(id, expectedVersion: 0, Change(AlertStatus.Acknowledged, assignee: "sam"), CancellationToken.None);
        Assert.False(acked.Conflict);
        Assert.Equal((AlertStatus.Acknowledged, "sam", 1L), (acked.State.Status, acked.State.Assignee, acked.State.Version));

        var stale = await triage.ChangeAsync(id, expectedVersion: 0, Change(note: "too late"), CancellationToken.None);
        Assert.True(stale.Conflict);
        Assert.Equal(1, stale.State.Version);

        var closed = await triage.ChangeAsync(id, expectedVersion: null, Change(AlertStatus.Closed, "false_positive", assignee: "", note: "backup job"), CancellationToken.None);
        Assert.Equal((AlertStatus.Closed, "false_positive", (string?)null, 2L), (closed.State.Status, closed.State.Resolution, closed.State.Assignee, closed.State.Version));

        var stored = (await triage.GetAsync([id, Ulid.NewUlid().ToString()], CancellationToken.None)).Single();
        Assert.Equal(id, stored.Key);
        Assert.Equal([AlertStatus.Acknowledged, AlertStatus.Closed], stored.Value.History.Select(c => c.Status));
        Assert.Equal("backup job", stored.Value.History[^1].Note);

        var reopened = await triage.ChangeAsync(id, 2, Change(AlertStatus.Open), CancellationToken.None);
        Assert.Null(reopened.State.Resolution);
    }

    [Fact]
    public async Task A_change_is_checked_against_the_state_it_lands_on_not_the_one_its_sender_read()
    {
        var (first, second) = Triage;
        var id = Ulid.NewUlid().ToString();
        // The sender read a closed alert and sends only a new resolution; meanwhile it was reopened elsewhere.
        await first.ChangeAsync(id, null, Change(AlertStatus.Closed, "benign"), CancellationToken.None);
        await second.ChangeAsync(id, null, Change(AlertStatus.Open), CancellationToken.None);
        var late = await first.ChangeAsync(id, null, Change(resolution: "true_positive"), CancellationToken.None);
        Assert.Equal("a resolution is given only when closing", late.Refusal);
        Assert.False(late.Conflict);
        Assert.Equal((AlertStatus.Open, (string?)null, 2L), (late.State.Status, late.State.Resolution, late.State.Version));
        Assert.Equal(2, (await second.GetAsync([id], CancellationToken.None))[id].History.Count);

        // The history cap holds whichever view adds the change that would pass it.
        for (var i = 2; i < AlertStatus.MaxHistory; i++)
        {
            Assert.Null((await (i % 2 == 0 ? first : second).ChangeAsync(id, null, Change(note: $"note {i}"), CancellationToken.None)).Refusal);
        }
        var past = await second.ChangeAsync(id, null, Change(note: "one too many"), CancellationToken.None);
        Assert.Equal($"the alert has {AlertStatus.MaxHistory} changes, the most it keeps", past.Refusal);
        Assert.Equal(AlertStatus.MaxHistory, (await first.GetAsync([id], CancellationToken.None))[id].History.Count);
    }

    [Fact]
    public async Task The_closed_epoch_moves_when_an_alert_is_closed_and_only_then_on_every_view()
    {
        var (first, second) = Triage;
        var before = await second.ClosedEpochAsync(CancellationToken.None);
        var id = Ulid.NewUlid().ToString();
        await first.ChangeAsync(id, null, Change(AlertStatus.Acknowledged), CancellationToken.None);
        Assert.Equal(before, await second.ClosedEpochAsync(CancellationToken.None));
        await first.ChangeAsync(id, null, Change(AlertStatus.Closed, "benign"), CancellationToken.None);
        Assert.Equal(before + 1, await second.ClosedEpochAsync(CancellationToken.None));
        await first.ChangeAsync(id, null, Change(note: "still closed"), CancellationToken.None);
        Assert.Equal(before + 1, await second.ClosedEpochAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Changes_made_at_once_through_two_views_are_all_kept()
    {
        var (first, second) = Triage;
        var id = Ulid.NewUlid().ToString();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? first : second).ChangeAsync(id, null, Change(note: $"note {i}"), CancellationToken.None).AsTask()));
        var state = (await first.GetAsync([id], CancellationToken.None))[id];
        Assert.Equal(8, state.Version);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"note {i}").Order(), state.History.Select(c => c.Note!).Order());
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

public sealed class RocksDbAlertTriageCompliance : AlertTriageCompliance
{
    private readonly EmbeddedStore _node = new(new FixedClock(DateTimeOffset.UtcNow));
    private readonly IAlertTriage _triage;

    public RocksDbAlertTriageCompliance() => _triage = _node.OpenAlertTriage();

    protected override (IAlertTriage First, IAlertTriage Second) Triage => (_triage, _triage);

    public override void Dispose()
    {
        _node.Dispose();
        base.Dispose();
    }
}

public sealed class DynamoDbAlertTriageCompliance : AlertTriageCompliance
{
    private readonly DynamoDbOptions _options = new() { ServiceUrl = TestServers.DynamoDb, TableName = "test-" + Guid.NewGuid().ToString("N") };
    private readonly Amazon.DynamoDBv2.AmazonDynamoDBClient _client;

    public DynamoDbAlertTriageCompliance()
    {
        _client = DynamoDbTable.CreateClient(_options);
        Triage = (new DynamoDbAlertTriage(_client, _options, NullLogger<DynamoDbAlertTriage>.Instance), new DynamoDbAlertTriage(_client, _options, NullLogger<DynamoDbAlertTriage>.Instance));
    }

    protected override (IAlertTriage First, IAlertTriage Second) Triage { get; }

    public override void Dispose()
    {
        // Every test writes, so the table exists; it is this test's own.
        _client.DeleteTableAsync(_options.TableName).GetAwaiter().GetResult();
        _client.Dispose();
        base.Dispose();
    }
}
