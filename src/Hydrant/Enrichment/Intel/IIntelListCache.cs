namespace Hydrant.Enrichment.Intel;

/// <summary>
/// Where the intel lists added through the API are kept: in the node's store when it runs alone,
/// in Redis in scale-out, so every node matches the same lists. Each node keeps its own matcher
/// built from them and rebuilds it when told of a change (or when it finds the version moved).
/// </summary>
public interface IIntelListCache
{
    ValueTask<IntelListCacheContents> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) a list's document (<see cref="IntelListDocument"/>) and tells every subscriber.</summary>
    ValueTask SaveAsync(string name, string document, CancellationToken cancellationToken);

    /// <summary>False when no API list has that name; otherwise removes it and tells every subscriber.</summary>
    ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>The version now: a cheap check for changes a lost notification did not announce.</summary>
    ValueTask<long> VersionAsync(CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="changed"/> after each change by any node (at most once per change; may miss some).</summary>
    IDisposable Subscribe(Action changed);
}

/// <summary>The API lists (name and document) and the version they are as of.</summary>
public sealed record IntelListCacheContents(long Version, IReadOnlyList<(string Name, string Document)> Lists);
