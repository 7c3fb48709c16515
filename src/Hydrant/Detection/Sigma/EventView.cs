using System.Text.Json;
using Hydrant.Events.Fields;

namespace Hydrant.Detection.Sigma;

/// <summary>
/// One event as the rules see it: indexed once (<see cref="EventFields"/>, straight from its UTF-8
/// bytes), then shared by every rule tested against it. Field names resolve against the event as
/// received: the exact key (Zeek's flat "id.orig_h") or the dotted path into nested objects
/// (CloudTrail "userIdentity.type").
/// </summary>
public sealed class EventView : IDisposable
{
    private static readonly FieldName ProductField = FieldName.Of("logsource.product");
    private static readonly FieldName ServiceField = FieldName.Of("logsource.service");
    private static readonly FieldName CategoryField = FieldName.Of("logsource.category");

    private readonly EventFields _fields;
    private readonly IReadOnlyDictionary<string, FieldName> _aliases;
    private List<string>? _strings;

    public EventView(ReadOnlyMemory<byte> json)
    {
        _fields = EventFields.Index(json);
        try
        {
            Product = Logsource(ProductField);
            Service = Logsource(ServiceField);
            Category = Logsource(CategoryField);
        }
        catch
        {
            _fields.Dispose();
            throw;
        }
        _aliases = FieldAliases.For(Product, Service);
    }

    public string? Product { get; }
    public string? Service { get; }
    public string? Category { get; }

    /// <summary>A field as rules name it: where the event's format kept it under another name, that one.</summary>
    public bool TryGetField(FieldName name, out FieldValue value)
    {
        if (_aliases.Count > 0 && _aliases.TryGetValue(name.Text, out var alias))
        {
            name = alias;
        }
        return _fields.TryGet(name, out value);
    }

    /// <summary>A field of the canonical event itself (<c>eventType</c>, <c>timestamp</c>), whatever a format's rules call it.</summary>
    public bool TryGetCanonical(FieldName name, out FieldValue value) => _fields.TryGet(name, out value);

    /// <summary>Every string value of the event, nested ones included: what keyword searches look through.</summary>
    public IReadOnlyList<string> Strings
    {
        get
        {
            if (_strings is null)
            {
                _strings = [];
                _fields.CollectStrings(_strings);
            }
            return _strings;
        }
    }

    public void Dispose() => _fields.Dispose();

    private string? Logsource(FieldName name) =>
        _fields.TryGet(name, out var value) && value.Kind == JsonValueKind.String ? value.Text : null;
}

/// <summary>
/// Where a format kept one of its own fields under another name because the canonical event uses
/// that name (docs/formats.md): rules written for the format still find it under its own name.
/// </summary>
internal static class FieldAliases
{
    private static readonly Dictionary<string, FieldName> None = [];
    private static readonly Dictionary<string, FieldName> CloudTrail = new(StringComparer.Ordinal) { ["eventType"] = FieldName.Of("cloudtrail_eventType") };
    private static readonly Dictionary<string, FieldName> Zeek = new(StringComparer.Ordinal) { ["id"] = FieldName.Of("zeek_id") };

    public static IReadOnlyDictionary<string, FieldName> For(string? product, string? service) => (product, service) switch
    {
        ("aws", "cloudtrail") => CloudTrail,
        ("zeek", _) => Zeek,
        _ => None,
    };
}
