using System.Globalization;
using System.Text.Json;
using Hydrant.Events;

namespace Hydrant.Detection.Sigma;

/// <summary>
/// One event as the rules see it: parsed once, then shared by every rule tested against it.
/// Field names resolve against the event as received: the exact key first (Zeek's flat
/// "id.orig_h"), then the dotted path into nested objects (CloudTrail "userIdentity.type").
/// </summary>
public sealed class EventView : IDisposable
{
    private readonly JsonDocument _document;
    private readonly IReadOnlyDictionary<string, string> _aliases;
    private List<string>? _strings;

    public EventView(ReadOnlyMemory<byte> json)
    {
        _document = JsonDocument.Parse(json, EventShape.DocumentOptions);
        Product = Logsource("product");
        Service = Logsource("service");
        Category = Logsource("category");
        _aliases = FieldAliases.For(Product, Service);
    }

    public JsonElement Root => _document.RootElement;
    public string? Product { get; }
    public string? Service { get; }
    public string? Category { get; }

    public bool TryGetField(string name, out JsonElement value)
    {
        if (_aliases.TryGetValue(name, out var alias))
        {
            name = alias;
        }
        return TryGetPath(_document.RootElement, name, out value);
    }

    /// <summary>A field of an event by name: a key holding the whole name first, else the dotted path into nested objects.</summary>
    public static bool TryGetPath(JsonElement root, string name, out JsonElement value)
    {
        if (root.TryGetProperty(name, out value))
        {
            return true;
        }
        if (!name.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }
        var current = root;
        foreach (var part in name.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                value = default;
                return false;
            }
        }
        value = current;
        return true;
    }

    /// <summary>Every string value of the event, nested ones included: what keyword searches look through.</summary>
    public IReadOnlyList<string> Strings
    {
        get
        {
            if (_strings is null)
            {
                _strings = [];
                Collect(_document.RootElement, _strings);
            }
            return _strings;
        }
    }

    /// <summary>The text a value is compared as: strings as they are, numbers and booleans as written.</summary>
    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    public static bool TryNumber(JsonElement value, out double number)
    {
        number = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDouble(out number),
            JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }

    public void Dispose() => _document.Dispose();

    private string? Logsource(string key) =>
        _document.RootElement.ValueKind == JsonValueKind.Object
        && _document.RootElement.TryGetProperty("logsource", out var logsource)
        && logsource.ValueKind == JsonValueKind.Object
        && logsource.TryGetProperty(key, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static void Collect(JsonElement element, List<string> strings)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                strings.Add(element.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Collect(property.Value, strings);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, strings);
                }
                break;
        }
    }
}

/// <summary>
/// Where a format kept one of its own fields under another name because the canonical event uses
/// that name (docs/formats.md): rules written for the format still find it under its own name.
/// </summary>
internal static class FieldAliases
{
    private static readonly Dictionary<string, string> None = [];
    private static readonly Dictionary<string, string> CloudTrail = new(StringComparer.Ordinal) { ["eventType"] = "cloudtrail_eventType" };
    private static readonly Dictionary<string, string> Zeek = new(StringComparer.Ordinal) { ["id"] = "zeek_id" };

    public static IReadOnlyDictionary<string, string> For(string? product, string? service) => (product, service) switch
    {
        ("aws", "cloudtrail") => CloudTrail,
        ("zeek", _) => Zeek,
        _ => None,
    };
}
