using System.Diagnostics.Metrics;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;
using Hydrant.Tests.RocksDb;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hydrant.Tests.Detection;

public sealed class DetectorTests : IDisposable
{
    private const string BruteForceId = "7d4b2a10-3c5e-4f61-9a7b-8c9d0e1f2a30";
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private readonly EmbeddedStore _node = new(new FixedClock(Now));
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private static string Failures(int from, int count) => string.Join('\n', Enumerable.Range(from, count).Select(i =>
        $$"""{"id":"f-{{i}}","timestamp":{{Now.ToUnixTimeMilliseconds() - 60_000 + i}},"eventType":"auth.failure","sourceIP":"203.0.113.5","logsource":{"product":"hydrant","service":"auth"} }"""));

    [Fact]
    public async Task A_batch_that_failed_is_detected_again_from_the_last_commit_so_no_event_counts_twice()
    {
        var compiler = new SigmaCompiler(SigmaOptions.Default);
        var rules = new RuleRegistry(RuleSet.Load(null, compiler, includeDefaultPack: true), compiler, _node.OpenRuleCache(), _node.Clock,
            NullLogger<RuleRegistry>.Instance, _metrics.GetRequiredService<IMeterFactory>());
        var store = new CommitFailingOnce(_node.OpenAlertStore());
        var detector = new Detector(rules, store, new AlertFeed(), new DetectionOptions(), NullLogger<Detector>.Instance, _metrics.GetRequiredService<IMeterFactory>(), []);
        _node.Log.RegisterConsumer(detector.Name, 0);
        Assert.Equal(0, await detector.LoadPositionAsync(CancellationToken.None));

        // Six failures of the ten the built-in brute-force rule needs; the first commit fails.
        await _node.AppendAsync(Failures(0, 6));
        var first = _node.Log.Read(0, 100);
        await Assert.ThrowsAsync<IOException>(async () => await detector.ConsumeAsync(first, CancellationToken.None));
        await detector.ConsumeAsync(first, CancellationToken.None);
        Assert.Empty((await store.QueryAsync(new AlertQuery(), CancellationToken.None)).Alerts);

        await _node.AppendAsync(Failures(6, 4));
        await detector.ConsumeAsync(_node.Log.Read(first[^1].Sequence + 1, 100), CancellationToken.None);
        var alert = Assert.Single((await store.QueryAsync(new AlertQuery(), CancellationToken.None)).Alerts);
        Assert.Equal((BruteForceId, 10L), (alert.RuleId, alert.Count));
        Assert.Equal(1, detector.AlertsRaised);
    }

    public void Dispose()
    {
        _node.Dispose();
        _metrics.Dispose();
    }

    /// <summary>A real alert store whose first commit fails, as a disk or a shared backend may.</summary>
    private sealed class CommitFailingOnce(IAlertStore store) : IAlertStore
    {
        private bool _failed;

        public ValueTask CommitAsync(DetectorCommit commit, CancellationToken cancellationToken)
        {
            if (!_failed)
            {
                _failed = true;
                throw new IOException("commit refused");
            }
            return store.CommitAsync(commit, cancellationToken);
        }

        public ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken) => store.LoadCheckpointAsync(cancellationToken);

        public ValueTask<IReadOnlyList<Alert>> LoadOpenAsync(CancellationToken cancellationToken) => store.LoadOpenAsync(cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, byte[]>> LoadStateAsync(CancellationToken cancellationToken) => store.LoadStateAsync(cancellationToken);

        public ValueTask<AlertOutbox> ReadOutboxAsync(int maxAlerts, CancellationToken cancellationToken) => store.ReadOutboxAsync(maxAlerts, cancellationToken);

        public ValueTask AcknowledgeOutboxAsync(AlertOutbox outbox, CancellationToken cancellationToken) => store.AcknowledgeOutboxAsync(outbox, cancellationToken);

        public ValueTask<AlertPage> QueryAsync(AlertQuery query, CancellationToken cancellationToken) => store.QueryAsync(query, cancellationToken);
    }
}
