namespace Hydrant.Detection;

/// <summary>Rules added through the API, kept as their YAML so they survive restarts.</summary>
public interface IRuleStore
{
    ValueTask<IReadOnlyList<(string Id, string Yaml)>> LoadAsync(CancellationToken cancellationToken);

    ValueTask SaveAsync(string id, string yaml, CancellationToken cancellationToken);

    /// <summary>False when no API rule has that id.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}
