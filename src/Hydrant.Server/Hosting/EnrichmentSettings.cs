using Hydrant.Enrichment;
using Hydrant.Enrichment.GeoIp;
using Hydrant.Enrichment.Intel;

namespace Hydrant.Server.Hosting;

/// <summary>One threat-intel list file, as configured (<c>Hydrant:Enrichment:Intel:Lists:N</c>).</summary>
public sealed record IntelListSetting(string Name, string Path, IntelListOptions Options);

/// <summary>
/// The <c>Hydrant:Enrichment</c> section: MaxMind databases (<c>GeoIp:City</c>, <c>GeoIp:Asn</c>),
/// threat-intel list files (<c>Intel:Lists:N:Name</c>, <c>:Path</c>, <c>:Format</c> lines|csv|domains,
/// <c>:Column</c>) and the other top-level fields that hold addresses (<c>Fields:N</c>). All are
/// opened at start: a database or list that cannot be used stops the server, naming it.
/// </summary>
public sealed record EnrichmentSettings(string? CityPath, string? AsnPath, IReadOnlyList<IntelListSetting> Lists, IReadOnlyList<string> Fields)
{
    public static EnrichmentSettings From(IConfigurationSection hydrant)
    {
        var section = hydrant.GetSection("Enrichment");
        var lists = section.GetSection("Intel:Lists").GetChildren().Select(l =>
        {
            var name = l["Name"] is { Length: > 0 and <= 64 } n ? n : throw new InvalidOperationException($"Hydrant:Enrichment:Intel:Lists:{l.Key}:Name must be 1 to 64 characters");
            var path = l["Path"] is { Length: > 0 } p ? p : throw new InvalidOperationException($"Hydrant:Enrichment:Intel:Lists:{l.Key}:Path is missing");
            var format = (l["Format"] ?? "lines").ToLowerInvariant() switch
            {
                "lines" => IntelListFormat.Lines,
                "csv" => IntelListFormat.Csv,
                "domains" => IntelListFormat.Domains,
                var other => throw new InvalidOperationException($"Hydrant:Enrichment:Intel:Lists:{l.Key}:Format must be lines, csv or domains (got '{other}')"),
            };
            return new IntelListSetting(name, path, new IntelListOptions { Format = format, Column = l.GetValue("Column", 0) });
        }).ToList();
        if (lists.Select(l => l.Name).Distinct(StringComparer.Ordinal).Count() != lists.Count)
        {
            throw new InvalidOperationException("Hydrant:Enrichment:Intel:Lists: two lists have the same Name");
        }
        return new EnrichmentSettings(section["GeoIp:City"] is { Length: > 0 } city ? city : null, section["GeoIp:Asn"] is { Length: > 0 } asn ? asn : null,
            lists, [.. section.GetSection("Fields").GetChildren().Select(f => f.Value).OfType<string>()]);
    }

    /// <summary>Opens the databases and reads the lists, or throws <see cref="InvalidOperationException"/> naming the setting and why.</summary>
    public Enricher Open()
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
        var lists = Lists.Select(l =>
        {
            try
            {
                using var text = File.OpenText(l.Path);
                return IntelList.Parse(l.Name, text, l.Options);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw new InvalidOperationException($"Hydrant:Enrichment:Intel:Lists: the list '{l.Name}' ({l.Path}) cannot be read: {e.Message}", e);
            }
        }).ToList();
        return new Enricher(Database(CityPath, GeoIpKind.City, "City"), Database(AsnPath, GeoIpKind.Asn, "Asn"), IntelMatcher.Build(lists), Fields);
    }
}
