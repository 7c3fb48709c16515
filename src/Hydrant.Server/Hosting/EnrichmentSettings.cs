using Hydrant.Enrichment;
using Hydrant.Enrichment.GeoIp;
using Hydrant.Enrichment.Intel;

namespace Hydrant.Server.Hosting;

/// <summary>
/// The <c>Hydrant:Enrichment</c> section: MaxMind databases (<c>GeoIp:City</c>, <c>GeoIp:Asn</c>),
/// threat-intel list files (<c>Intel:Lists:N:Name</c>, <c>:Path</c>, <c>:Format</c> lines|csv|domains,
/// <c>:Column</c>, <c>:Level</c>) and the other top-level fields that hold addresses (<c>Fields:N</c>).
/// All are opened at start: a database or list that cannot be used stops the server, naming it.
/// </summary>
public sealed record EnrichmentSettings(string? CityPath, string? AsnPath, IReadOnlyList<IntelListFile> Lists, IReadOnlyList<string> Fields)
{
    public static EnrichmentSettings From(IConfigurationSection hydrant)
    {
        var section = hydrant.GetSection("Enrichment");
        var lists = section.GetSection("Intel:Lists").GetChildren().Select(l =>
        {
            var key = $"Hydrant:Enrichment:Intel:Lists:{l.Key}";
            var name = l["Name"] is { } n && EnrichmentSources.IsValidName(n) ? n : throw new InvalidOperationException($"{key}:Name must be 1 to 64 letters, digits, '.', '_' or '-'");
            var path = l["Path"] is { Length: > 0 } p ? p : throw new InvalidOperationException($"{key}:Path is missing");
            try
            {
                return new IntelListFile(name, path, new IntelListOptions
                {
                    Format = IntelListDocument.ParseFormat(l["Format"]),
                    Column = l.GetValue("Column", 0),
                    Level = IntelListDocument.ParseLevel(l["Level"]),
                });
            }
            catch (FormatException e)
            {
                throw new InvalidOperationException($"{key}: {e.Message}", e);
            }
        }).ToList();
        if (lists.Select(l => l.Name).Distinct(StringComparer.Ordinal).Count() != lists.Count)
        {
            throw new InvalidOperationException("Hydrant:Enrichment:Intel:Lists: two lists have the same Name");
        }
        if (lists.Count > IntelMatcher.MaxLists)
        {
            throw new InvalidOperationException($"Hydrant:Enrichment:Intel:Lists: at most {IntelMatcher.MaxLists} lists");
        }
        return new EnrichmentSettings(section["GeoIp:City"] is { Length: > 0 } city ? city : null, section["GeoIp:Asn"] is { Length: > 0 } asn ? asn : null,
            lists, [.. section.GetSection("Fields").GetChildren().Select(f => f.Value).OfType<string>()]);
    }

    /// <summary>Opens the databases and reads the lists, or throws <see cref="InvalidOperationException"/> naming the setting and why.</summary>
    public (Enricher Enricher, IReadOnlyList<IntelListFileRead> Files) Open()
    {
        GeoIpDatabase? Database(string? path, GeoIpKind kind, string key)
        {
            try
            {
                return path is null ? null : GeoIpDatabase.Open(path, kind);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidOperationException($"Hydrant:Enrichment:GeoIp:{key}: {e.Message}", e);
            }
        }
        var files = Lists.Select(l =>
        {
            try
            {
                return EnrichmentSources.Read(l);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw new InvalidOperationException($"Hydrant:Enrichment:Intel:Lists: the list '{l.Name}' ({l.Path}) cannot be read: {e.Message}", e);
            }
        }).ToList();
        var enricher = new Enricher(Database(CityPath, GeoIpKind.City, "City"), Database(AsnPath, GeoIpKind.Asn, "Asn"), IntelMatcher.Build([.. files.Select(f => f.List)]), Fields);
        return (enricher, files);
    }
}
