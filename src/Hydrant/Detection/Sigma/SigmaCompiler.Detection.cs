using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hydrant.Events.Fields;
using YamlDotNet.RepresentationModel;

namespace Hydrant.Detection.Sigma;

/// <summary>Detections: search identifiers, field conditions with their modifiers, keywords, regexes and comparisons.</summary>
public sealed partial class SigmaCompiler
{
    private Search CompileDetection(YamlMappingNode detection, ValueBudget budget, List<RuleSelection>? selections = null)
    {
        var identifiers = new Dictionary<string, Search>(StringComparer.Ordinal);
        YamlNode? condition = null;
        foreach (var (keyNode, value) in detection.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            switch (key)
            {
                case "condition":
                    condition = value;
                    break;
                case "timeframe":
                    break; // only meaningful with the deprecated aggregations, refused in the condition
                default:
                    identifiers[key] = CompileSearch(value, budget);
                    selections?.Add(new RuleSelection(key, identifiers[key].Matches, FieldsOf(value)));
                    break;
            }
        }
        if (condition is null)
        {
            throw Error(detection, "missing 'condition'");
        }
        var conditions = condition switch
        {
            YamlScalarNode scalar => [scalar],
            YamlSequenceNode list => list.Children.Select(c => c as YamlScalarNode ?? throw Error(c, "a condition must be a string")).ToList(),
            _ => throw Error(condition, "a condition must be a string or a list of strings"),
        };
        var compiled = conditions.Select(c =>
        {
            try
            {
                return SigmaCondition.Compile(c.Value ?? string.Empty, identifiers);
            }
            catch (SigmaException e)
            {
                throw new SigmaException("condition: " + e.Reason, (int)c.Start.Line, (int)c.Start.Column);
            }
        }).ToList();
        return compiled.Count == 1
            ? compiled[0]
            : new Search(e => compiled.Any(c => c.Matches(e)), compiled.Select(c => c.Requirement).Aggregate(Requirement.Either));
    }

    /// <summary>The fields a search identifier compares, in the order written; none for keywords.</summary>
    private static IReadOnlyList<string> FieldsOf(YamlNode search) =>
    [
        .. (search switch
        {
            YamlMappingNode map => [map],
            YamlSequenceNode list => list.Children.OfType<YamlMappingNode>(),
            _ => [],
        }).SelectMany(m => m.Children.Keys.OfType<YamlScalarNode>().Select(k => (k.Value ?? string.Empty).Split('|')[0]))
          .Where(f => f.Length > 0).Distinct(StringComparer.Ordinal),
    ];

    /// <summary>A search identifier: a map (AND of fields), a list of maps (OR), or keywords.</summary>
    private Search CompileSearch(YamlNode node, ValueBudget budget)
    {
        switch (node)
        {
            case YamlMappingNode map:
                return CompileMap(map, budget);
            case YamlSequenceNode { Children.Count: 0 }:
                throw Error(node, "a search identifier must not be empty");
            case YamlSequenceNode list when list.Children.All(c => c is YamlMappingNode):
                var maps = list.Children.Select(c => CompileMap((YamlMappingNode)c, budget)).ToList();
                return new Search(e => maps.Any(m => m.Matches(e)), maps.Select(m => m.Requirement).Aggregate(Requirement.Either));
            case YamlSequenceNode list when list.Children.All(c => c is YamlScalarNode):
                return new Search(CompileKeywords(list, [], budget), FieldRequirement(Requirement.AnyString, [], list));
            case YamlScalarNode scalar:
                return new Search(CompileKeywords(new YamlSequenceNode(scalar), [], budget), FieldRequirement(Requirement.AnyString, [], scalar));
            default:
                throw Error(node, "a search identifier must be a map, a list of maps or a list of keywords");
        }
    }

    private Search CompileMap(YamlMappingNode map, ValueBudget budget)
    {
        var fields = new List<Func<EventView, bool>>();
        Requirement? requirement = null;
        foreach (var (keyNode, value) in map.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            var parts = key.Split('|');
            try
            {
                fields.Add(parts[0].Length == 0
                    ? CompileKeywords(value as YamlSequenceNode ?? new YamlSequenceNode(value), parts[1..], budget)
                    : CompileField(parts[0], parts[1..], value, budget));
                requirement = Requirement.Both(requirement, FieldRequirement(parts[0], parts[1..], value));
            }
            catch (SigmaException e) when (e.Line == 0)
            {
                throw new SigmaException($"'{key}': {e.Reason}", (int)keyNode.Start.Line, (int)keyNode.Start.Column);
            }
        }
        var predicate = fields.Count == 1 ? fields[0] : e => fields.TrueForAll(f => f(e));
        return new Search(predicate, requirement);
    }

    /// <summary>
    /// What a field comparison requires: plain values (no modifier but cased, no wildcard) require
    /// equality with one of them; values with wildcards, or under contains / startswith / endswith,
    /// require their longest literal run as a substring (with <c>all</c>, any one of the values'
    /// runs). Keywords (<see cref="Requirement.AnyString"/>) are substrings of some string of the
    /// event, plain or not. Nothing for null, other modifiers, or a value without a literal run of
    /// <see cref="Requirement.MinimumSubstring"/> characters.
    /// </summary>
    private static Requirement? FieldRequirement(string field, string[] modifierNames, YamlNode valueNode)
    {
        var rest = modifierNames.Where(m => m is not ("cased" or "all")).ToList();
        if (rest.Count > 1 || (rest.Count == 1 && rest[0] is not ("contains" or "startswith" or "endswith")))
        {
            return null;
        }
        var values = valueNode is YamlSequenceNode list ? ScalarValues(list) : [ScalarValue(valueNode)];
        if (values.Count == 0 || values.Any(v => v.IsNull))
        {
            return null;
        }
        if (field != Requirement.AnyString && rest.Count == 0 && values.All(v => v.Pattern.PlainText is not null))
        {
            return modifierNames.Contains("all")
                ? null
                : new Requirement(field, new HashSet<string>(values.Select(v => v.Pattern.PlainText!), StringComparer.OrdinalIgnoreCase));
        }
        var runs = values.Select(v => v.Pattern.LongestLiteral).ToList();
        if (modifierNames.Contains("all"))
        {
            return runs.Where(r => r is not null).MaxBy(r => r!.Length) is { Length: >= Requirement.MinimumSubstring } longest
                ? new Requirement(field, new HashSet<string>([longest], StringComparer.OrdinalIgnoreCase), IsSubstring: true)
                : null;
        }
        return runs.Any(r => r is not { Length: >= Requirement.MinimumSubstring })
            ? null
            : new Requirement(field, new HashSet<string>(runs!, StringComparer.OrdinalIgnoreCase), IsSubstring: true);
    }

    /// <summary>Keywords search every string value of the event, as substrings.</summary>
    private Func<EventView, bool> CompileKeywords(YamlSequenceNode list, string[] modifiers, ValueBudget budget)
    {
        var spec = Modifiers.Parse(modifiers);
        if (spec.Type is not (ValueType.String or ValueType.Regex))
        {
            throw Error(list, "keywords take only string modifiers");
        }
        var values = ScalarValues(list);
        var tests = Expand(values, spec, budget).Select(v => spec.Type == ValueType.Regex ? CompileRegex(v.Text, spec) : WrapForKeywords(v, spec)).ToList();
        if (spec.All)
        {
            return e => tests.TrueForAll(t => e.Strings.Any(t));
        }
        return e =>
        {
            foreach (var s in e.Strings)
            {
                foreach (var t in tests)
                {
                    if (t(s))
                    {
                        return true;
                    }
                }
            }
            return false;
        };
    }

    private static Func<string, bool> WrapForKeywords(Value value, Modifiers spec)
    {
        var text = value.Pattern;
        text = spec.Position switch
        {
            Position.StartsWith => text.StartsWith(),
            Position.EndsWith => text.EndsWith(),
            _ => text.Contains(),
        };
        return text.Compile(spec.Cased);
    }

    private Func<EventView, bool> CompileField(string field, string[] modifierNames, YamlNode valueNode, ValueBudget budget)
    {
        var spec = Modifiers.Parse(modifierNames);
        var name = FieldName.Of(field);
        var values = valueNode is YamlSequenceNode list ? ScalarValues(list) : [ScalarValue(valueNode)];
        if (spec.All && values.Count < 2)
        {
            throw Error(valueNode, "'all' needs a list of at least two values");
        }

        if (spec.Type == ValueType.Exists)
        {
            if (values is not [{ Text: "true" or "false" } flag])
            {
                throw Error(valueNode, "exists takes true or false");
            }
            var wanted = flag.Text == "true";
            return e => e.TryGetField(name, out _) == wanted;
        }
        if (values.Any(v => v.IsNull))
        {
            if (values.Count > 1)
            {
                throw Error(valueNode, "null cannot be part of a list of values");
            }
            return e => !e.TryGetField(name, out var v) || v.Kind == JsonValueKind.Null;
        }

        var tests = spec.Type switch
        {
            ValueType.FieldRef => values.Select(v => FieldRef(v.Text, spec.Cased)).ToList(),
            ValueType.String when !spec.All => CompileAnyText(Expand(values, spec, budget), spec),
            _ => Expand(values, spec, budget).Select(v => CompileValue(v, spec)).ToList(),
        };
        Func<EventView, FieldValue, bool> any = (e, element) => tests.Exists(t => Test(t, e, element));
        Func<EventView, FieldValue, bool> all = (e, element) => tests.TrueForAll(t => Test(t, e, element));
        var combine = spec.All ? all : any;
        if (spec.Negate)
        {
            // neq: the field is there and different from every value.
            return e => e.TryGetField(name, out var element) && !any(e, element);
        }
        return e => e.TryGetField(name, out var element) && combine(e, element);
    }

    /// <summary>
    /// Text values of which any one must match: those that are only "contains" (most lists of
    /// SigmaHQ's, some of hundreds) become one multi-string search (<see cref="SearchValues{T}"/>,
    /// vectorised), not a search per value; the others are tested one by one.
    /// </summary>
    private static List<Func<EventView, FieldValue, bool>> CompileAnyText(List<Value> values, Modifiers spec)
    {
        var contained = new List<string>();
        var tests = new List<Func<EventView, FieldValue, bool>>();
        foreach (var value in values)
        {
            if (Positioned(value, spec).ContainedText is { } text)
            {
                contained.Add(text);
            }
            else
            {
                tests.Add(CompileValue(value, spec));
            }
        }
        if (contained.Count > 0)
        {
            var needles = SearchValues.Create([.. contained.Distinct(spec.Cased ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase)], spec.Cased ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
            tests.Insert(0, (_, element) => element.Text is { } s && s.AsSpan().IndexOfAny(needles) >= 0);
        }
        return tests;
    }

    private static bool Test(Func<EventView, FieldValue, bool> test, EventView e, FieldValue element)
    {
        if (element.Kind != JsonValueKind.Array)
        {
            return test(e, element);
        }
        foreach (var item in element.Elements)
        {
            if (test(e, item))
            {
                return true;
            }
        }
        return false;
    }

    private static Func<EventView, FieldValue, bool> FieldRef(string otherField, bool cased)
    {
        var comparison = cased ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var other = FieldName.Of(otherField);
        return (e, element) => e.TryGetField(other, out var value)
            && element.Text is { } a && value.Text is { } b && string.Equals(a, b, comparison);
    }

    private static Func<EventView, FieldValue, bool> CompileValue(Value value, Modifiers spec)
    {
        switch (spec.Type)
        {
            case ValueType.Regex:
                var regex = CompileRegex(value.Text, spec);
                return (_, element) => element.Text is { } s && regex(s);
            case ValueType.Cidr:
                if (!IPNetwork.TryParse(value.Text, out var network))
                {
                    throw new SigmaException($"'{value.Text}' is not a CIDR network");
                }
                return (_, element) => element.Kind == JsonValueKind.String && IPAddress.TryParse(element.Text, out var ip)
                    && (ip.IsIPv4MappedToIPv6 && network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? network.Contains(ip.MapToIPv4()) : network.Contains(ip));
            case ValueType.Numeric:
                if (!double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bound))
                {
                    throw new SigmaException($"'{value.Text}' is not a number");
                }
                var compare = spec.Comparison;
                if (spec.TimePart is { } part)
                {
                    return (_, element) => element.Kind == JsonValueKind.String
                        && DateTimeOffset.TryParse(element.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                        && Compare(compare, TimePart(part, time.UtcDateTime), bound);
                }
                return (_, element) => element.TryNumber(out var number) && Compare(compare, number, bound);
            default:
                var matches = Positioned(value, spec).Compile(spec.Cased);
                return (_, element) => element.Text is { } s && matches(s);
        }
    }

    /// <summary>The value's pattern where the modifiers put it (contains, startswith, endswith).</summary>
    private static SigmaString Positioned(Value value, Modifiers spec) => spec.Position switch
    {
        Position.Contains => value.Pattern.Contains(),
        Position.StartsWith => value.Pattern.StartsWith(),
        Position.EndsWith => value.Pattern.EndsWith(),
        _ => value.Pattern,
    };

    private static Func<string, bool> CompileRegex(string pattern, Modifiers spec)
    {
        if (pattern.Length > RuleLimits.MaxRegexChars)
        {
            throw new SigmaException($"the regex is {pattern.Length} characters, over the limit of {RuleLimits.MaxRegexChars}");
        }
        var regexOptions = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant
            | (spec.RegexIgnoreCase ? RegexOptions.IgnoreCase : RegexOptions.None)
            | (spec.RegexMultiline ? RegexOptions.Multiline : RegexOptions.None)
            | (spec.RegexSingleline ? RegexOptions.Singleline : RegexOptions.None);
        try
        {
            return new Regex(pattern, regexOptions).IsMatch;
        }
        catch (NotSupportedException e)
        {
            throw new SigmaException($"regex '{pattern}' needs backtracking, which is not allowed ({e.Message})");
        }
        catch (ArgumentException e)
        {
            throw new SigmaException($"regex '{pattern}' is invalid: {e.Message}");
        }
    }

    private static bool Compare(Comparison comparison, double value, double bound) => comparison switch
    {
        Comparison.Less => value < bound,
        Comparison.LessOrEqual => value <= bound,
        Comparison.Greater => value > bound,
        Comparison.GreaterOrEqual => value >= bound,
        _ => value == bound,
    };

    private static double TimePart(string part, DateTime utc) => part switch
    {
        "minute" => utc.Minute,
        "hour" => utc.Hour,
        "day" => utc.Day,
        "week" => ISOWeek.GetWeekOfYear(utc),
        "month" => utc.Month,
        _ => utc.Year,
    };


    /// <summary>A compiled search identifier (or condition) and what it requires of an event, if anything.</summary>
    internal sealed record Search(Func<EventView, bool> Matches, Requirement? Requirement);
}
