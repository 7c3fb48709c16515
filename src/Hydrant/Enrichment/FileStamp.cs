namespace Hydrant.Enrichment;

/// <summary>What says a file was replaced or rewritten: its last write time and its length.</summary>
public readonly record struct FileStamp(DateTime Written, long Length)
{
    /// <summary>The file's stamp now; null when there is no such file.</summary>
    public static FileStamp? Of(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? new FileStamp(file.LastWriteTimeUtc, file.Length) : null;
    }
}
