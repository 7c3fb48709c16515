using Hydrant.Detection.Sigma;

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
/// Every change builds a new immutable <see cref="RuleSet"/> and swaps it in, so the detector
/// always evaluates one consistent set and never waits on a lock.
/// </summary>
public sealed class RuleRegistry : IDisposable
{
    public const string ApiSource = "api";

    private readonly RuleSet _fromFiles;
    private readonly SigmaCompiler _compiler;
    private readonly IRuleStore _store;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly Dictionary<string, SigmaRule> _api = new(StringComparer.Ordinal);
    private RuleSet _current;

    public RuleRegistry(RuleSet fromFiles, SigmaCompiler compiler, IRuleStore store)
    {
        _fromFiles = fromFiles;
        _compiler = compiler;
        _store = store;
        _current = fromFiles;
    }

    public RuleSet Current => Volatile.Read(ref _current);

    /// <summary>Loads the API rules stored earlier; one that no longer compiles is listed as refused.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var refusals = new List<RuleRefusal>();
        foreach (var (id, yaml) in await _store.LoadAsync(cancellationToken))
        {
            try
            {
                _api[id] = _compiler.Compile(yaml);
            }
            catch (SigmaException e)
            {
                refusals.Add(new RuleRefusal($"{ApiSource}:{id}", e.Message));
            }
        }
        Publish(refusals);
    }

    /// <summary>Compiles and stores a rule (throws <see cref="SigmaException"/> when it does not compile).</summary>
    public async Task<(RuleChange Change, SigmaRule Rule)> AddAsync(string yaml, CancellationToken cancellationToken)
    {
        var rule = _compiler.Compile(yaml);
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (_fromFiles.Rules.Any(r => r.Rule.Id == rule.Id))
            {
                return (RuleChange.NotAnApiRule, rule);
            }
            await _store.SaveAsync(rule.Id, yaml, cancellationToken);
            var replaced = _api.ContainsKey(rule.Id);
            _api[rule.Id] = rule;
            Publish([]);
            return (replaced ? RuleChange.Replaced : RuleChange.Added, rule);
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
            if (_fromFiles.Rules.Any(r => r.Rule.Id == id))
            {
                return RuleChange.NotAnApiRule;
            }
            if (!_api.Remove(id))
            {
                return RuleChange.NotFound;
            }
            await _store.DeleteAsync(id, cancellationToken);
            Publish([]);
            return RuleChange.Removed;
        }
        finally
        {
            _changes.Release();
        }
    }

    public void Dispose() => _changes.Dispose();

    private void Publish(IReadOnlyList<RuleRefusal> apiRefusals) =>
        Volatile.Write(ref _current, new RuleSet(
            [.. _fromFiles.Rules, .. _api.Select(p => new LoadedRule(p.Value, $"{ApiSource}:{p.Key}"))],
            [.. _fromFiles.Refusals, .. apiRefusals]));
}
