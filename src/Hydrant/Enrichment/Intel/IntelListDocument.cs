using System.Text.Json;

namespace Hydrant.Enrichment.Intel;

/// <summary>
/// A list added through the API as the intel list cache keeps it: its text as sent and how to read
/// it, so every node parses the same list the same way.
/// </summary>
public sealed record IntelListDocument(string Format, int Column, string Level, DateTimeOffset Updated, string Text)
{
    public static IntelListDocument Of(IntelListOptions options, DateTimeOffset updated, string text) =>
        new(NameOf(options.Format), options.Column, options.Level, updated, text);

    public IntelListOptions Options => new() { Format = ParseFormat(Format), Column = Column, Level = Level };

    public string Serialize() => JsonSerializer.Serialize(this, JsonSerializerOptions.Web);

    /// <summary>Reads a stored document; throws <see cref="InvalidDataException"/> when it is not one.</summary>
    public static IntelListDocument Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<IntelListDocument>(json, JsonSerializerOptions.Web) ?? throw new InvalidDataException("an empty intel list document");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not an intel list document: {e.Message}", e);
        }
    }

    public static string NameOf(IntelListFormat format) => format.ToString().ToLowerInvariant();

    /// <summary>lines, csv or domains; throws <see cref="FormatException"/> naming what is allowed.</summary>
    public static IntelListFormat ParseFormat(string? format) => (format ?? "lines").ToLowerInvariant() switch
    {
        "lines" => IntelListFormat.Lines,
        "csv" => IntelListFormat.Csv,
        "domains" => IntelListFormat.Domains,
        var other => throw new FormatException($"format must be lines, csv or domains (got '{other}')"),
    };

    /// <summary>One of Sigma's levels; throws <see cref="FormatException"/> naming them.</summary>
    public static string ParseLevel(string? level) => level is null ? "medium"
        : Detection.Sigma.SigmaLevels.IsLevel(level) ? level
        : throw new FormatException($"level must be one of {Detection.Sigma.SigmaLevels.Listed} (got '{level}')");
}
