using Hydrant.Enrichment.GeoIp;
using Hydrant.Enrichment.Intel;
using Microsoft.Extensions.Logging;

namespace Hydrant.Enrichment;

/// <summary>One threat-intel list file, as configured (<c>Hydrant:Enrichment:Intel:Lists:N</c>).</summary>
public sealed record IntelListFile(string Name, string Path, IntelListOptions Options);

/// <summary>A list file as read: the list, and the file's stamp taken before it was read, so a change while it was read is seen at the next check.</summary>
public sealed record IntelListFileRead(IntelListFile File, IntelList List, FileStamp Stamp);

/// <summary>The outcome of changing a list through the API.</summary>
public enum IntelListChange
{
    Added,
    Replaced,
    Removed,
    NotFound,

    /// <summary>The name is a configured file's list: it changes with its file, not through the API.</summary>
    FromFile,
}

/// <summary>A list in force, as the API and the pipeline view show it.</summary>
public sealed record IntelListSummary(string Name, string Source, string? Path, string Format, string Level, int Networks, int Domains, long Hits, DateTimeOffset Updated, IReadOnlyList<string> Problems);

/// <summary>
/// What the enricher knows from, kept current while the server runs: the MaxMind databases and
/// the list files are checked every second (<see cref="RefreshAsync"/>) and reloaded when they
/// changed, and the lists added through the API are read from the <see cref="IIntelListCache"/>
/// when it announces a change or its version moved. Each change builds a new matcher of every list
/// and swaps it into the enricher, so the next event is matched against the lists as they are
/// now. A file or database that cannot be used is refused with the reason (logged once per
/// version of the file) and what was loaded before stays in force.
/// </summary>
public sealed partial class EnrichmentSources : IDisposable
{
    public const string FileSource = "file";
    public const string ApiSource = "api";

    private readonly Enricher _enricher;
    private readonly IIntelListCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger<EnrichmentSources> _logger;
    private readonly IDisposable _subscription;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly List<FileList> _files;
    private readonly SortedDictionary<string, Loaded> _api = new(StringComparer.Ordinal);
    private IReadOnlyList<Loaded> _published;
    private volatile bool _stale = true;
    private long _loadedVersion = -1;

    /// <summary>Takes the configured files with the lists read from them at start, in the order configured.</summary>
    public EnrichmentSources(Enricher enricher, IReadOnlyList<IntelListFileRead> files, IIntelListCache cache, TimeProvider time, ILogger<EnrichmentSources> logger)
    {
        _enricher = enricher;
        _cache = cache;
        _time = time;
        _logger = logger;
        _files = [.. files.Select(f => new FileList(f.File) { Loaded = new Loaded(f.List, FileSource, f.File.Path, time.GetUtcNow()), Stamp = f.Stamp })];
        _published = [.. _files.Select(f => f.Loaded)];
        _subscription = cache.Subscribe(() => _stale = true);
    }

    /// <summary>How often the files are checked and the cache's version compared.</summary>
    public static TimeSpan RefreshInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Reads a list file; throws <see cref="InvalidDataException"/>, <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.</summary>
    public static IntelListFileRead Read(IntelListFile file)
    {
        var stamp = FileStamp.Of(file.Path) ?? default;
        using var text = File.OpenText(file.Path);
        return new IntelListFileRead(file, IntelList.Parse(file.Name, text, file.Options), stamp);
    }

    /// <summary>A name the API accepts: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>The lists in force: the files' in the order configured, then the API's by name.</summary>
    public IReadOnlyList<IntelListSummary> Describe() => [.. Volatile.Read(ref _published).Select(Summary)];

    /// <summary>Checks the databases and files for changes and the cache for a new version; rebuilds the matcher when any list changed.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        Reload(_enricher.City);
        Reload(_enricher.Asn);
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var changed = false;
            foreach (var file in _files)
            {
                changed |= ReloadIfChanged(file);
            }
            if (!_stale)
            {
                try
                {
                    _stale = await _cache.VersionAsync(cancellationToken) != Interlocked.Read(ref _loadedVersion);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    LogCacheUnavailable(_logger, e);
                }
            }
            if (_stale)
            {
                changed |= await LoadApiListsAsync(cancellationToken);
            }
            if (changed)
            {
                Publish();
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Parses and stores a list sent through the API and puts it in force on this node at once
    /// (on the others when the cache tells them). Throws <see cref="InvalidDataException"/> when
    /// the list holds too many entries or would be one list too many.
    /// </summary>
    public async Task<(IntelListChange Change, IntelListSummary? List)> PutAsync(string name, string text, IntelListOptions options, CancellationToken cancellationToken)
    {
        using var reader = new StringReader(text);
        var list = IntelList.Parse(name, reader, options);
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (_files.Any(f => f.File.Name == name))
            {
                return (IntelListChange.FromFile, null);
            }
            var replaced = _api.ContainsKey(name);
            if (!replaced && _files.Count + _api.Count >= IntelMatcher.MaxLists)
            {
                throw new InvalidDataException($"at most {IntelMatcher.MaxLists} intel lists are matched; remove one first");
            }
            var updated = _time.GetUtcNow();
            await _cache.SaveAsync(name, IntelListDocument.Of(options, updated, text).Serialize(), cancellationToken);
            var loaded = new Loaded(list, ApiSource, null, updated);
            _api[name] = loaded;
            Publish();
            return (replaced ? IntelListChange.Replaced : IntelListChange.Added, Summary(loaded));
        }
        finally
        {
            _changes.Release();
        }
    }

    public async Task<IntelListChange> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (_files.Any(f => f.File.Name == name))
            {
                return IntelListChange.FromFile;
            }
            if (!await _cache.DeleteAsync(name, cancellationToken))
            {
                return IntelListChange.NotFound;
            }
            _api.Remove(name);
            Publish();
            return IntelListChange.Removed;
        }
        finally
        {
            _changes.Release();
        }
    }

    private void Reload(GeoIpDatabase? database)
    {
        if (database is null)
        {
            return;
        }
        if (database.ReloadIfChanged(out var refusal))
        {
            LogDatabaseReloaded(_logger, database.Path, database.DatabaseType);
        }
        else if (refusal is not null)
        {
            LogDatabaseRefused(_logger, refusal);
        }
    }

    private bool ReloadIfChanged(FileList file)
    {
        if (FileStamp.Of(file.File.Path) is not { } stamp || stamp == file.Stamp || stamp == file.Refused)
        {
            return false;
        }
        try
        {
            var read = Read(file.File);
            file.Stamp = read.Stamp;
            file.Loaded = new Loaded(read.List, FileSource, file.File.Path, _time.GetUtcNow());
            LogListReloaded(_logger, file.File.Name, file.File.Path, read.List.Count);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            file.Refused = stamp;
            LogListRefused(_logger, file.File.Name, file.File.Path, e.Message);
            return false;
        }
    }

    private async Task<bool> LoadApiListsAsync(CancellationToken cancellationToken)
    {
        // Before reading: a change announced while the load runs makes the copy stale again.
        _stale = false;
        IntelListCacheContents contents;
        try
        {
            contents = await _cache.LoadAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _stale = true;
            LogCacheUnavailable(_logger, e);
            return false;
        }
        var lists = new SortedDictionary<string, Loaded>(StringComparer.Ordinal);
        foreach (var (name, stored) in contents.Lists.Take(IntelMatcher.MaxLists - _files.Count))
        {
            try
            {
                var document = IntelListDocument.Deserialize(stored);
                using var reader = new StringReader(document.Text);
                lists[name] = new Loaded(IntelList.Parse(name, reader, document.Options), ApiSource, null, document.Updated);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException)
            {
                LogStoredListRefused(_logger, name, e.Message);
            }
        }
        _api.Clear();
        foreach (var (name, loaded) in lists)
        {
            _api[name] = loaded;
        }
        Interlocked.Exchange(ref _loadedVersion, contents.Version);
        return true;
    }

    /// <summary>The matcher first, then what the API describes: a list shown is a list matched.</summary>
    private void Publish()
    {
        List<Loaded> lists = [.. _files.Select(f => f.Loaded).Concat(_api.Values)];
        _enricher.Intel = IntelMatcher.Build([.. lists.Select(l => l.List)]);
        Volatile.Write(ref _published, lists);
    }

    private IntelListSummary Summary(Loaded loaded)
    {
        var list = loaded.List;
        return new IntelListSummary(list.Name, loaded.Source, loaded.Path, IntelListDocument.NameOf(list.Options.Format), list.Options.Level,
            list.Networks.Count, list.Domains.Count, _enricher.HitsOf(list.Name), loaded.Updated, list.Problems);
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _changes.Dispose();
    }

    private sealed record Loaded(IntelList List, string Source, string? Path, DateTimeOffset Updated);

    private sealed class FileList(IntelListFile file)
    {
        public IntelListFile File { get; } = file;

        public required Loaded Loaded { get; set; }

        public required FileStamp Stamp { get; set; }

        public FileStamp? Refused { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Intel list cache not answering; the lists in hand stay in force until it does")]
    private static partial void LogCacheUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "GeoIP database {Path} reloaded ({Type})")]
    private static partial void LogDatabaseReloaded(ILogger logger, string path, string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GeoIP database refused: {Reason}")]
    private static partial void LogDatabaseRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Intel list {Name} read from {Path}: {Entries} entries")]
    private static partial void LogListReloaded(ILogger logger, string name, string path, int entries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Intel list {Name} ({Path}) refused, the list loaded before is kept: {Reason}")]
    private static partial void LogListRefused(ILogger logger, string name, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Intel list {Name} in the cache cannot be read and is not matched: {Reason}")]
    private static partial void LogStoredListRefused(ILogger logger, string name, string reason);
}
