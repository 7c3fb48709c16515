using System.Text.Json;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Fields;
using Hydrant.Keys;

namespace Hydrant.Query;

/// <summary>
/// Conditions on any field of an event (<c>?field.user=root&amp;field.cmd.line=*wget*</c>), all of
/// which must hold: a dotted name reaches into nested objects (a key holding the dots itself is
/// tried first); the value is compared as Sigma compares, case-insensitively, with <c>*</c> for
/// any run of characters and <c>?</c> for one (<c>\*</c>, <c>\?</c> and <c>\\</c> for themselves);
/// an array matches when one of its items does. Values compile as rule values do
/// (<see cref="SigmaString"/>: plain comparisons, or the non-backtracking regex engine).
/// </summary>
public sealed class FieldFilter
{
    public const int MaxConditions = 16;
    public const int MaxValueChars = 256;

    private readonly IReadOnlyList<(FieldName Name, Func<string, bool> Matches)> _conditions;

    private FieldFilter(IReadOnlyList<(FieldName, Func<string, bool>)> conditions) => _conditions = conditions;

    /// <summary>The filter of these conditions (name without the <c>field.</c> prefix, value), or the reason there is none.</summary>
    public static FieldFilter? Parse(IReadOnlyList<(string Name, string Value)> conditions, out string? error)
    {
        error = conditions.Count > MaxConditions ? $"at most {MaxConditions} field conditions" : null;
        error ??= conditions.Select(c => c.Name.Length is 0 or > EventLimits.MaxFieldChars || c.Name.StartsWith('.') || c.Name.EndsWith('.') || c.Name.Contains("..", StringComparison.Ordinal)
                ? $"field.{c.Name}: a field name is 1 to {EventLimits.MaxFieldChars} characters, its parts separated by single dots"
                : c.Value.Length > MaxValueChars ? $"field.{c.Name}: a value has at most {MaxValueChars} characters" : null)
            .FirstOrDefault(e => e is not null);
        return error is null ? new FieldFilter([.. conditions.Select(c => (FieldName.Of(c.Name), SigmaString.Parse(c.Value).Compile(cased: false)))]) : null;
    }

    /// <summary>True when the event (its stored JSON) meets every condition.</summary>
    public bool Matches(ReadOnlyMemory<byte> json)
    {
        using var fields = EventFields.Index(json);
        foreach (var (name, matches) in _conditions)
        {
            if (!fields.TryGet(name, out var value) || !Holds(value, matches))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The sort key of a stored event: where a page that ends on it continues.</summary>
    public static string SortKeyOf(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json, EventShape.DocumentOptions);
        var root = document.RootElement;
        return EventKeys.SortKey(Timestamps.ParseCanonical(root.GetProperty("timestamp").GetString()!), root.GetProperty("eventType").GetString()!, root.GetProperty("id").GetString()!);
    }

    private static bool Holds(FieldValue value, Func<string, bool> matches)
    {
        switch (value.Kind)
        {
            case JsonValueKind.Array:
                foreach (var item in value.Elements)
                {
                    if (item.Kind != JsonValueKind.Array && Holds(item, matches))
                    {
                        return true;
                    }
                }
                return false;
            case JsonValueKind.Null:
                return matches("null");
            case JsonValueKind.Object:
                return false;
            default:
                return matches(value.Text!);
        }
    }
}
