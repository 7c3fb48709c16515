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
/// An API rule is one YAML text (a detection rule, a filter, or a correlation with the rules it
/// relates as further documents), stored and known by its first document's id. Every change
/// builds a new immutable <see cref="RuleSet"/> and swaps it in, so the detector always evaluates
/// one consistent set and never waits on a lock.
/// </summary>
public sealed class RuleRegistry : IDisposable
{
    public const string ApiSource = "api";

    private readonly RuleSet _fromFiles;
    private readonly SigmaCompiler _compiler;
    private readonly IRuleStore _store;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly Dictionary<string, IReadOnlyList<SigmaDocument>> _api = new(StringComparer.Ordinal);
    private IReadOnlyList<RuleRefusal> _apiRefusals = [];
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
                _api[id] = _compiler.CompileAll(yaml);
            }
            catch (SigmaException e)
            {
                refusals.Add(new RuleRefusal($"{ApiSource}:{id}", e.Message));
            }
        }
        _apiRefusals = refusals;
        Publish();
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
            await _store.SaveAsync(first.Id, yaml, cancellationToken);
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
            await _store.DeleteAsync(id, cancellationToken);
            Publish();
            return RuleChange.Removed;
        }
        finally
        {
            _changes.Release();
        }
    }

    public void Dispose() => _changes.Dispose();

    private void Publish() => Volatile.Write(ref _current, Build(_api, _apiRefusals));

    private RuleSet Build(IEnumerable<KeyValuePair<string, IReadOnlyList<SigmaDocument>>> api, IReadOnlyList<RuleRefusal> apiRefusals) =>
        _fromFiles.With(api.SelectMany(p => p.Value.Select(d => new LoadedDocument(d, $"{ApiSource}:{p.Key}"))), apiRefusals);
}
