using System.Diagnostics.Metrics;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;
using Hydrant.Tests.RocksDb;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hydrant.Tests.Detection;

/// <summary>
/// One node's detector on a real spool and alert store of its own, fed one batch per send: the
/// built-in pack, or the rules given as YAML, and shared detection state if any.
/// </summary>
public sealed class DetectorNode : IDisposable
{
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly string? _rulesDirectory;
    private readonly bool _includeDefaultPack;
    private readonly ISharedDetectionState _shared;
    private long _position;

    public DetectorNode(DateTimeOffset now, string? rulesYaml = null, ISharedDetectionState? shared = null, Func<IAlertStore, IAlertStore>? wrapStore = null)
    {
        Spool = new EmbeddedStore(new FixedClock(now));
        if (rulesYaml is not null)
        {
            _rulesDirectory = Path.Combine(Spool.Directory_, "rules");
            Directory.CreateDirectory(_rulesDirectory);
            File.WriteAllText(Path.Combine(_rulesDirectory, "rules.yml"), rulesYaml);
        }
        _includeDefaultPack = rulesYaml is null;
        _shared = shared ?? new SingleNodeDetectionState();
        Alerts = wrapStore is null ? Spool.OpenAlertStore() : wrapStore(Spool.OpenAlertStore());
        Triage = Spool.OpenAlertTriage();
        Detector = NewDetector();
        Spool.Log.RegisterConsumer(Detector.Name, 0);
    }

    public EmbeddedStore Spool { get; }

    public IAlertStore Alerts { get; }

    public IAlertTriage Triage { get; }

    public Detector Detector { get; private set; }

    /// <summary>Loads the detector's position; call once before the first send.</summary>
    public async Task StartAsync() => _position = await Detector.LoadPositionAsync(CancellationToken.None);

    /// <summary>Accepts the events and detects them, with any left by a failed batch, as one batch.</summary>
    public async Task SendAsync(string ndjson)
    {
        await Spool.AppendAsync(ndjson);
        await DetectPendingAsync();
    }

    /// <summary>Detects what the spool holds past the detector's position, as the spool runner would after a failure.</summary>
    public async Task DetectPendingAsync()
    {
        var entries = Spool.Log.Read(_position, 10_000);
        await Detector.ConsumeAsync(entries, CancellationToken.None);
        _position = entries[^1].Sequence + 1;
    }

    /// <summary>A new detector on the same spool and alert store, as after a restart of the process; call <see cref="StartAsync"/> next.</summary>
    public void RestartDetector() => Detector = NewDetector();

    private Detector NewDetector()
    {
        var compiler = new SigmaCompiler(SigmaOptions.Default);
        var meters = _metrics.GetRequiredService<IMeterFactory>();
        var rules = new RuleRegistry(RuleSet.Load(_rulesDirectory, compiler, _includeDefaultPack), compiler, Spool.OpenRuleCache(), Spool.Clock,
            NullLogger<RuleRegistry>.Instance, meters);
        Assert.Empty(rules.Current.Refusals);
        // The node's clock is the wall clock its stream clock may not pass.
        var options = new DetectionOptions { Correlation = new Hydrant.Detection.Correlation.CorrelationOptions { WallClock = Spool.Clock } };
        return new Detector(rules, Alerts, new AlertFeed(), options, NullLogger<Detector>.Instance, meters, _shared, Triage);
    }

    /// <summary>Calls the detector with no entries, as the spool runner does while the spool is quiet.</summary>
    public async Task IdleAsync() => await Detector.ConsumeAsync([], CancellationToken.None);

    public async Task<IReadOnlyList<Alert>> ListAlertsAsync() => (await Alerts.QueryAsync(new AlertQuery { Limit = 10_000 }, CancellationToken.None)).Alerts;

    public void Dispose()
    {
        Spool.Dispose();
        _metrics.Dispose();
    }
}

/// <summary>A real alert store whose first commit fails, as a disk or a shared backend may.</summary>
public sealed class CommitFailingOnce(IAlertStore store) : IAlertStore
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

    public ValueTask<Alert?> GetAsync(string id, CancellationToken cancellationToken) => store.GetAsync(id, cancellationToken);

    public ValueTask<IReadOnlyList<Alert>> LoadOpenAsync(CancellationToken cancellationToken) => store.LoadOpenAsync(cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, byte[]>> LoadStateAsync(CancellationToken cancellationToken) => store.LoadStateAsync(cancellationToken);

    public ValueTask<string?> LoadForwardedPositionAsync(CancellationToken cancellationToken) => store.LoadForwardedPositionAsync(cancellationToken);

    public ValueTask<AlertOutbox> ReadOutboxAsync(string reader, int maxAlerts, CancellationToken cancellationToken) => store.ReadOutboxAsync(reader, maxAlerts, cancellationToken);

    public ValueTask AcknowledgeOutboxAsync(string reader, AlertOutbox outbox, CancellationToken cancellationToken) => store.AcknowledgeOutboxAsync(reader, outbox, cancellationToken);

    public ValueTask<AlertPage> QueryAsync(AlertQuery query, CancellationToken cancellationToken) => store.QueryAsync(query, cancellationToken);
}
