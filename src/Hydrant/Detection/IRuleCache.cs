namespace Hydrant.Detection;

/// <summary>
/// Where the rules added through the API are kept, as their YAML, with a version that every change
/// moves: in the node's own store (Hydrant:Cache:Kind=memory), or in Redis, shared by every node
/// that uses it. Each node compiles them into its <see cref="RuleRegistry"/>, its in-process copy,
/// and drops that copy when told of a change or when it finds the version moved.
/// </summary>
public interface IRuleCache
{
    ValueTask<RuleCacheContents> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) a rule and tells every subscriber.</summary>
    ValueTask SaveAsync(string id, string yaml, CancellationToken cancellationToken);

    /// <summary>False when no API rule has that id; otherwise removes it and tells every subscriber.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>The version now: a cheap check for changes a lost notification did not announce.</summary>
    ValueTask<long> VersionAsync(CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="changed"/> after each change by any node (at most once per change; may miss some).</summary>
    IDisposable Subscribe(Action changed);
}

/// <summary>The API rules (id and YAML) and the version they are as of.</summary>
public sealed record RuleCacheContents(long Version, IReadOnlyList<(string Id, string Yaml)> Rules);
