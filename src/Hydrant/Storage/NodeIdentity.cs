namespace Hydrant.Storage;

/// <summary>
/// This node's lasting name among the nodes that share scale-out backends. Each node has its own
/// spool, so whatever a shared backend keeps per spool (the analytics loader's position, the alerts
/// the node copied) is keyed by it. Made once and kept in the data folder, so a restart, or a
/// host rename, is the same node.
/// </summary>
public static class NodeIdentity
{
    private const string FileName = "node-id";

    public static string Load(StoreOptions options)
    {
        Directory.CreateDirectory(options.DataPath);
        var path = Path.Combine(options.DataPath, FileName);
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing)
        {
            return existing;
        }
        var id = Ulid.NewUlid().ToString().ToLowerInvariant();
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, id);
        File.Move(temporary, path, overwrite: true);
        return id;
    }
}
