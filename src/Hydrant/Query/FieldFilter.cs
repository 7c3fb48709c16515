using System.Text.Json;
using System.Text.RegularExpressions;
using Hydrant.Events;
using Hydrant.Keys;

namespace Hydrant.Query;

/// <summary>
/// Conditions on any field of an event (<c>?field.user=root&amp;field.cmd.line=*wget*</c>), all of
/// which must hold: a dotted name reaches into nested objects (a key holding the dots itself is
/// tried first); the value is compared as Sigma compares, case-insensitively, with <c>*</c> for
/// any run of characters and <c>?</c> for one (<c>\*</c>, <c>\?</c> and <c>\\</c> for themselves);
/// an array matches when one of its items does. Patterns run on the non-backtracking engine.
/// </summary>
public sealed class FieldFilter
{
    public const int MaxConditions = 16;
    public const int MaxValueChars = 256;

    private readonly IReadOnlyList<(string Name, Regex Pattern)> _conditions;

    private FieldFilter(IReadOnlyList<(string, Regex)> conditions) => _conditions = conditions;

    /// <summary>The filter of these conditions (name without the <c>field.</c> prefix, value), or the reason there is none.</summary>
    public static FieldFilter? Parse(IReadOnlyList<(string Name, string Value)> conditions, out string? error)
    {
        error = conditions.Count > MaxConditions ? $"at most {MaxConditions} field conditions" : null;
        error ??= conditions.Select(c => c.Name.Length is 0 or > EventLimits.MaxFieldChars || c.Name.StartsWith('.') || c.Name.EndsWith('.') || c.Name.Contains("..", StringComparison.Ordinal)
                ? $"field.{c.Name}: a field name is 1 to {EventLimits.MaxFieldChars} characters, its parts separated by single dots"
                : c.Value.Length > MaxValueChars ? $"field.{c.Name}: a value has at most {MaxValueChars} characters" : null)
            .FirstOrDefault(e => e is not null);
        return error is null ? new FieldFilter([.. conditions.Select(c => (c.Name, Compile(c.Value)))]) : null;
    }

    /// <summary>True when the event (its stored JSON) meets every condition.</summary>
    public bool Matches(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json, EventShape.DocumentOptions);
        return _conditions.All(c => Field(document.RootElement, c.Name) is { } value && Holds(value, c.Pattern));
    }

    /// <summary>The sort key of a stored event: where a page that ends on it continues.</summary>
    public static string SortKeyOf(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json, EventShape.DocumentOptions);
        var root = document.RootElement;
        return EventKeys.SortKey(Timestamps.ParseCanonical(root.GetProperty("timestamp").GetString()!), root.GetProperty("eventType").GetString()!, root.GetProperty("id").GetString()!);
    }

    private static JsonElement? Field(JsonElement root, string name)
    {
        if (root.TryGetProperty(name, out var exact))
        {
            return exact;
        }
        var current = root;
        foreach (var part in name.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                return null;
            }
        }
        return current;
    }

    private static bool Holds(JsonElement value, Regex pattern) => value.ValueKind switch
    {
        JsonValueKind.Array => value.EnumerateArray().Any(item => item.ValueKind != JsonValueKind.Array && Holds(item, pattern)),
        JsonValueKind.String => pattern.IsMatch(value.GetString()!),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null => pattern.IsMatch(value.GetRawText()),
        _ => false,
    };

    private static Regex Compile(string value)
    {
        var pattern = new System.Text.StringBuilder("^");
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length && value[i + 1] is '*' or '?' or '\\')
            {
                pattern.Append(Regex.Escape(value[++i].ToString()));
            }
            else
            {
                pattern.Append(c switch { '*' => ".*", '?' => ".", _ => Regex.Escape(c.ToString()) });
            }
        }
        return new Regex(pattern.Append('$').ToString(), RegexOptions.NonBacktracking | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }
}
