using System.Diagnostics.Metrics;
using Hydrant.Detection.Sigma;
using Microsoft.Extensions.Logging;

namespace Hydrant.Detection;

/// <summary>The outcome of adding or removing a rule through the API.</summary>
public enum RuleChange
{
    Added,
    Replaced,
    Removed,
    NotFound,
    NotAnApiRule,
}

/// <summary>
/// The rules in force: those from files (or the built-in pack) and those added through the API.
/// An API rule is one YAML text (a detection rule, a filter, or a correlation with the rules it
/// relates as further documents), kept in the <see cref="IRuleCache"/> and known by its first
/// document's id. This is the node's in-process (L1) copy of the cache, compiled: every change
/// builds a new immutable <see cref="RuleSet"/> and swaps it in, so the detector always evaluates
/// one consistent set and never waits on a lock. A change by any node (told by the cache, or found
/// by a version check every few seconds, since notifications can be lost) makes the copy stale;
/// the next lookup reloads it. Lookups served by a current copy are hits, and the hit rate is
/// exported and watched.
/// </summary>
public sealed partial class RuleRegistry : IDisposable
{
    public const string ApiSource = "api";

    private static readonly TimeSpan VersionCheckInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan HitRateWindow = TimeSpan.FromMinutes(1);
    private const double HitRateWarning = 0.8;
    private const int HitRateMinLookups = 20;

    private readonly RuleSet _fromFiles;
    private readonly SigmaCompiler _compiler;
    private readonly IRuleCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger<RuleRegistry> _logger;
    private readonly IDisposable _subscription;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly Dictionary<string, IReadOnlyList<SigmaDocument>> _api = new(StringComparer.Ordinal);
    private IReadOnlyList<RuleRefusal> _apiRefusals = [];
    private RuleSet _current;
    private volatile bool _stale = true;
    private long _loadedVersion = -1;
    private long _nextVersionCheck;
    private long _hits;
    private long _misses;
    private long _windowStart;
    private long _windowHits;
    private long _windowLookups;

    public RuleRegistry(RuleSet fromFiles, SigmaCompiler compiler, IRuleCache cache, TimeProvider time, ILogger<RuleRegistry> logger, IMeterFactory meterFactory)
    {
        _fromFiles = fromFiles;
        _compiler = compiler;
        _cache = cache;
        _time = time;
        _logger = logger;
        _current = fromFiles;
        _windowStart = time.GetTimestamp();
        var meter = meterFactory.Create(Storage.IngestStats.MeterName);
        meter.CreateObservableCounter("rule_cache_hits", () => Hits, description: "Rule lookups served by the node's compiled copy");
        meter.CreateObservableCounter("rule_cache_misses", () => Misses, description: "Rule lookups that found the copy stale and reloaded it from the rule cache");
        meter.CreateObservableGauge("rule_cache_hit_ratio", () => HitRatio, description: "Share of rule lookups served by the node's compiled copy");
        _subscription = cache.Subscribe(() => _stale = true);
    }

    public RuleSet Current => Volatile.Read(ref _current);

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Hits over all lookups so far (1 before the first).</summary>
    public double HitRatio
    {
        get
        {
            var hits = Hits;
            var all = hits + Misses;
            return all == 0 ? 1 : (double)hits / all;
        }
    }

    /// <summary>
    /// The rules for one detector batch: the compiled copy while it is current (a hit), else
    /// reloaded from the cache first (a miss). A cache that does not answer leaves the copy in
    /// hand in force; the next lookup tries again.
    /// </summary>
    public async ValueTask<RuleSet> LookupAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (!_stale && now >= Interlocked.Read(ref _nextVersionCheck))
        {
            Interlocked.Exchange(ref _nextVersionCheck, now + (long)(VersionCheckInterval.TotalSeconds * _time.TimestampFrequency));
            try
            {
                if (await _cache.VersionAsync(cancellationToken) != Interlocked.Read(ref _loadedVersion))
                {
                    _stale = true;
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogCacheUnavailable(_logger, e);
            }
        }
        var hit = !_stale;
        if (!hit)
        {
            try
            {
                await LoadAsync(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogCacheUnavailable(_logger, e);
            }
        }
        CountLookup(hit, now);
        return Current;
    }

    /// <summary>Loads the API rules from the cache; one that no longer compiles is listed as refused.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            // Before reading: a change announced while the load runs makes the copy stale again.
            _stale = false;
            RuleCacheContents contents;
            try
            {
                contents = await _cache.LoadAsync(cancellationToken);
            }
            catch
            {
                _stale = true;
                throw;
            }
            var refusals = new List<RuleRefusal>();
            _api.Clear();
            foreach (var (id, yaml) in contents.Rules)
            {
                try
                {
                    _api[id] = _compiler.CompileAll(yaml);
                }
                catch (SigmaException e)
                {
                    refusals.Add(new RuleRefusal($"{ApiSource}:{id}", e.Message));
                }
            }
            _apiRefusals = refusals;
            Interlocked.Exchange(ref _loadedVersion, contents.Version);
            Publish();
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Compiles and stores a rule text (throws <see cref="SigmaException"/> when a document does not
    /// compile, or when a filter or correlation in it names no loaded rule).
    /// </summary>
    public async Task<(RuleChange Change, SigmaDocument Rule)> AddAsync(string yaml, CancellationToken cancellationToken)
    {
        var documents = _compiler.CompileAll(yaml);
        var first = documents[0];
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (documents.FirstOrDefault(d => _fromFiles.Contains(d.Id)) is { } clash)
            {
                return (RuleChange.NotAnApiRule, clash);
            }
            var source = $"{ApiSource}:{first.Id}";
            var refusals = _apiRefusals.Where(r => r.Source != source).ToList();
            var candidate = Build(_api.Where(p => p.Key != first.Id).Append(new(first.Id, documents)), refusals);
            if (candidate.Refusals.FirstOrDefault(r => r.Source == source) is { } refusal)
            {
                throw new SigmaException(refusal.Reason);
            }
            await _cache.SaveAsync(first.Id, yaml, cancellationToken);
            var replaced = _api.ContainsKey(first.Id);
            _api[first.Id] = documents;
            _apiRefusals = refusals;
            Volatile.Write(ref _current, candidate);
            return (replaced ? RuleChange.Replaced : RuleChange.Added, first);
        }
        finally
        {
            _changes.Release();
        }
    }

    public async Task<RuleChange> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (_fromFiles.Contains(id))
            {
                return RuleChange.NotAnApiRule;
            }
            if (!_api.Remove(id))
            {
                return RuleChange.NotFound;
            }
            await _cache.DeleteAsync(id, cancellationToken);
            Publish();
            return RuleChange.Removed;
        }
        finally
        {
            _changes.Release();
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _changes.Dispose();
    }

    private void CountLookup(bool hit, long now)
    {
        Interlocked.Increment(ref hit ? ref _hits : ref _misses);
        if (hit)
        {
            Interlocked.Increment(ref _windowHits);
        }
        var lookups = Interlocked.Increment(ref _windowLookups);
        var start = Interlocked.Read(ref _windowStart);
        if (_time.GetElapsedTime(start, now) < HitRateWindow || Interlocked.CompareExchange(ref _windowStart, now, start) != start)
        {
            return;
        }
        var hits = Interlocked.Exchange(ref _windowHits, 0);
        Interlocked.Exchange(ref _windowLookups, 0);
        if (lookups >= HitRateMinLookups && (double)hits / lookups < HitRateWarning)
        {
            LogLowHitRate(_logger, (double)hits / lookups, lookups);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rule cache not answering; the rules in hand stay in force until it does")]
    private static partial void LogCacheUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rule cache hit rate {Ratio:P0} over the last {Lookups} lookups is below 80 %: rules are changing faster than nodes can use them")]
    private static partial void LogLowHitRate(ILogger logger, double ratio, long lookups);

    private void Publish() => Volatile.Write(ref _current, Build(_api, _apiRefusals));

    private RuleSet Build(IEnumerable<KeyValuePair<string, IReadOnlyList<SigmaDocument>>> api, IReadOnlyList<RuleRefusal> apiRefusals) =>
        _fromFiles.With(api.SelectMany(p => p.Value.Select(d => new LoadedDocument(d, $"{ApiSource}:{p.Key}"))), apiRefusals);
}
