namespace Hydrant.Tests;

/// <summary>
/// The third-party corpus in ../shared/corpus beside the repository (read in place, never copied).
/// It is always there, on a developer's machine and in CI, so its absence fails a test.
/// </summary>
public static class Corpus
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var corpus = System.IO.Path.GetFullPath(System.IO.Path.Combine(Repository.Root, "..", "shared", "corpus"));
        return Directory.Exists(corpus) ? corpus : throw new DirectoryNotFoundException($"the shared corpus is missing at {corpus}");
    }
}

/// <summary>The checkout the tests were built from (the folder holding Hydrant.slnx), for files the product ships, such as the built-in pack's rule tests.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Hydrant.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("no Hydrant.slnx above " + AppContext.BaseDirectory);
    }
}
