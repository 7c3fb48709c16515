using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Hydrant.Detection.Sigma;

/// <summary>
/// Parses a Sigma rule (YAML) and compiles its detection: search identifiers (maps, lists of maps,
/// keyword lists), every value modifier of the specification's appendix, and the condition.
/// Anything it cannot run exactly is refused with the reason and its place in the YAML.
/// </summary>
public sealed class SigmaCompiler(SigmaOptions options)
{
    private static readonly HashSet<string> Levels = new(["informational", "low", "medium", "high", "critical"], StringComparer.Ordinal);
    private static readonly char[] Dashes = ['-', '/', '\u2013', '\u2014', '\u2015'];

    public SigmaRule Compile(string yaml) =>
        CompileDocument(yaml) as SigmaRule ?? throw new SigmaException("this is a filter, not a detection rule");

    /// <summary>A detection rule (<see cref="SigmaRule"/>) or a filter (<see cref="SigmaFilter"/>).</summary>
    public object CompileDocument(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new SigmaException("not valid YAML: " + e.Message, (int)e.Start.Line, (int)e.Start.Column);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's answer to a document that ends inside an open flow collection.
            throw new SigmaException("not valid YAML: the document ends inside an unclosed [ or {");
        }
        if (stream.Documents.Count != 1)
        {
            throw new SigmaException(stream.Documents.Count == 0 ? "the file holds no rule" : "one rule per file: rule collections (several YAML documents) are not supported");
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw Error(stream.Documents[0].RootNode, "a rule must be a YAML mapping");
        }
        if (Child(root, "correlation") is { } correlation)
        {
            throw Error(correlation, "correlation rules are not supported yet");
        }
        var title = Scalar(root, "title") ?? throw Error(root, "missing 'title'");
        var id = Scalar(root, "id") ?? DerivedId(title);
        var level = Scalar(root, "level") ?? "medium";
        if (!Levels.Contains(level))
        {
            throw Error(Child(root, "level")!, $"level '{level}' is not one of informational, low, medium, high, critical");
        }
        var logsourceNode = Child(root, "logsource") as YamlMappingNode ?? throw Error(root, "missing 'logsource' mapping");
        var logsource = new Logsource(Scalar(logsourceNode, "product"), Scalar(logsourceNode, "service"), Scalar(logsourceNode, "category"));
        if (Child(root, "filter") is YamlMappingNode filter && Child(root, "detection") is null)
        {
            var targets = Child(filter, "rules") switch
            {
                YamlSequenceNode list when list.Children.Count > 0 => list.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw Error(c, "a filter's rules are ids or names")).ToList(),
                YamlScalarNode single when single.Value is { Length: > 0 } one => [one],
                _ => throw Error(filter, "a filter needs 'rules': the ids or names of the rules it tunes"),
            };
            var detectionOfFilter = new YamlMappingNode(filter.Children.Where(p => p.Key is YamlScalarNode { Value: not "rules" }));
            return new SigmaFilter(id, title, logsource, targets, CompileDetection(detectionOfFilter).Matches);
        }
        var tags = Child(root, "tags") is YamlSequenceNode tagList ? tagList.Children.OfType<YamlScalarNode>().Select(t => t.Value ?? string.Empty).ToList() : [];
        var detection = Child(root, "detection") as YamlMappingNode ?? throw Error(root, "missing 'detection' mapping");

        var compiled = CompileDetection(detection);
        return new SigmaRule(id, Scalar(root, "name"), title, level, Scalar(root, "status"), logsource, tags, compiled.Matches, compiled.Requirement);
    }

    /// <summary>The id and title of a rule, as far as its YAML can be read; for reporting rules that were refused.</summary>
    public static (string? Id, string? Title) ReadIdentity(string yaml)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            return stream.Documents is [{ RootNode: YamlMappingNode root }] ? (Scalar(root, "id"), Scalar(root, "title")) : (null, null);
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            return (null, null);
        }
    }

    private Search CompileDetection(YamlMappingNode detection)
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
                    identifiers[key] = CompileSearch(value);
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

    /// <summary>A search identifier: a map (AND of fields), a list of maps (OR), or keywords.</summary>
    private Search CompileSearch(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                return CompileMap(map);
            case YamlSequenceNode { Children.Count: 0 }:
                throw Error(node, "a search identifier must not be empty");
            case YamlSequenceNode list when list.Children.All(c => c is YamlMappingNode):
                var maps = list.Children.Select(c => CompileMap((YamlMappingNode)c)).ToList();
                return new Search(e => maps.Any(m => m.Matches(e)), maps.Select(m => m.Requirement).Aggregate(Requirement.Either));
            case YamlSequenceNode list when list.Children.All(c => c is YamlScalarNode):
                return new Search(CompileKeywords(list, []), null);
            case YamlScalarNode scalar:
                return new Search(CompileKeywords(new YamlSequenceNode(scalar), []), null);
            default:
                throw Error(node, "a search identifier must be a map, a list of maps or a list of keywords");
        }
    }

    private Search CompileMap(YamlMappingNode map)
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
                    ? CompileKeywords(value as YamlSequenceNode ?? new YamlSequenceNode(value), parts[1..])
                    : CompileField(parts[0], parts[1..], value));
                if (parts[0].Length > 0)
                {
                    requirement = Requirement.Both(requirement, EqualityRequirement(parts[0], parts[1..], value));
                }
            }
            catch (SigmaException e) when (e.Line == 0)
            {
                throw new SigmaException($"'{key}': {e.Reason}", (int)keyNode.Start.Line, (int)keyNode.Start.Column);
            }
        }
        var predicate = fields.Count == 1 ? fields[0] : e => fields.TrueForAll(f => f(e));
        return new Search(predicate, requirement);
    }

    /// <summary>A field compared for plain equality (no modifier but cased, no wildcard, no null) requires one of its values.</summary>
    private static Requirement? EqualityRequirement(string field, string[] modifierNames, YamlNode valueNode)
    {
        if (modifierNames.Any(m => m != "cased"))
        {
            return null;
        }
        var values = valueNode is YamlSequenceNode list ? ScalarValues(list) : [ScalarValue(valueNode)];
        if (values.Count == 0 || values.Any(v => v.IsNull || v.Pattern.PlainText is null))
        {
            return null;
        }
        return new Requirement(field, new HashSet<string>(values.Select(v => v.Pattern.PlainText!), StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Keywords search every string value of the event, as substrings.</summary>
    private Func<EventView, bool> CompileKeywords(YamlSequenceNode list, string[] modifiers)
    {
        var spec = Modifiers.Parse(modifiers);
        if (spec.Type is not (ValueType.String or ValueType.Regex))
        {
            throw Error(list, "keywords take only string modifiers");
        }
        var values = ScalarValues(list);
        var tests = Expand(values, spec).Select(v => spec.Type == ValueType.Regex ? CompileRegex(v.Text, spec) : WrapForKeywords(v, spec)).ToList();
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

    private Func<EventView, bool> CompileField(string field, string[] modifierNames, YamlNode valueNode)
    {
        var spec = Modifiers.Parse(modifierNames);
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
            return e => e.TryGetField(field, out _) == wanted;
        }
        if (values.Any(v => v.IsNull))
        {
            if (values.Count > 1)
            {
                throw Error(valueNode, "null cannot be part of a list of values");
            }
            return e => !e.TryGetField(field, out var v) || v.ValueKind == JsonValueKind.Null;
        }

        var tests = spec.Type switch
        {
            ValueType.FieldRef => values.Select(v => FieldRef(v.Text, spec.Cased)).ToList(),
            _ => Expand(values, spec).Select(v => CompileValue(v, spec)).ToList(),
        };
        Func<EventView, JsonElement, bool> any = (e, element) => tests.Exists(t => Test(t, e, element));
        Func<EventView, JsonElement, bool> all = (e, element) => tests.TrueForAll(t => Test(t, e, element));
        var combine = spec.All ? all : any;
        if (spec.Negate)
        {
            // neq: the field is there and different from every value.
            return e => e.TryGetField(field, out var element) && !any(e, element);
        }
        return e => e.TryGetField(field, out var element) && combine(e, element);
    }

    private static bool Test(Func<EventView, JsonElement, bool> test, EventView e, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            return test(e, element);
        }
        foreach (var item in element.EnumerateArray())
        {
            if (test(e, item))
            {
                return true;
            }
        }
        return false;
    }

    private static Func<EventView, JsonElement, bool> FieldRef(string otherField, bool cased)
    {
        var comparison = cased ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return (e, element) => e.TryGetField(otherField, out var other)
            && EventView.Text(element) is { } a && EventView.Text(other) is { } b && string.Equals(a, b, comparison);
    }

    private static Func<EventView, JsonElement, bool> CompileValue(Value value, Modifiers spec)
    {
        switch (spec.Type)
        {
            case ValueType.Regex:
                var regex = CompileRegex(value.Text, spec);
                return (_, element) => EventView.Text(element) is { } s && regex(s);
            case ValueType.Cidr:
                if (!IPNetwork.TryParse(value.Text, out var network))
                {
                    throw new SigmaException($"'{value.Text}' is not a CIDR network");
                }
                return (_, element) => element.ValueKind == JsonValueKind.String && IPAddress.TryParse(element.GetString(), out var ip)
                    && (ip.IsIPv4MappedToIPv6 && network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? network.Contains(ip.MapToIPv4()) : network.Contains(ip));
            case ValueType.Numeric:
                if (!double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bound))
                {
                    throw new SigmaException($"'{value.Text}' is not a number");
                }
                var compare = spec.Comparison;
                if (spec.TimePart is { } part)
                {
                    return (_, element) => element.ValueKind == JsonValueKind.String
                        && DateTimeOffset.TryParse(element.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                        && Compare(compare, TimePart(part, time.UtcDateTime), bound);
                }
                return (_, element) => EventView.TryNumber(element, out var number) && Compare(compare, number, bound);
            default:
                var pattern = spec.Position switch
                {
                    Position.Contains => value.Pattern.Contains(),
                    Position.StartsWith => value.Pattern.StartsWith(),
                    Position.EndsWith => value.Pattern.EndsWith(),
                    _ => value.Pattern,
                };
                var matches = pattern.Compile(spec.Cased);
                return (_, element) => EventView.Text(element) is { } s && matches(s);
        }
    }

    private static Func<string, bool> CompileRegex(string pattern, Modifiers spec)
    {
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

    /// <summary>expand, windash and the encodings, in that order; each may turn one value into several.</summary>
    private List<Value> Expand(List<Value> values, Modifiers spec)
    {
        IEnumerable<Value> result = values;
        if (spec.Expand)
        {
            result = result.SelectMany(ExpandPlaceholders);
        }
        if (spec.Windash)
        {
            result = result.SelectMany(v => Dashes.Select(d => Value.FromPattern(WindashVariant(v.Text, d))).DistinctBy(x => x.Text));
        }
        foreach (var encoding in spec.Encodings)
        {
            result = result.SelectMany(v => Encode(v, encoding)).ToList();
        }
        return [.. result];
    }

    private static string WindashVariant(string text, char dash)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (Array.IndexOf(Dashes, chars[i]) >= 0)
            {
                chars[i] = dash;
            }
        }
        return new string(chars);
    }

    private IEnumerable<Value> ExpandPlaceholders(Value value)
    {
        var match = Regex.Match(value.Text, @"(?<!\\)%(?<name>[^%]+)%");
        if (!match.Success)
        {
            yield return value;
            yield break;
        }
        if (!options.Placeholders.TryGetValue(match.Groups["name"].Value, out var replacements))
        {
            throw new SigmaException($"placeholder %{match.Groups["name"].Value}% has no configured values");
        }
        foreach (var replacement in replacements)
        {
            foreach (var expanded in ExpandPlaceholders(Value.FromPattern(value.Text[..match.Index] + replacement + value.Text[(match.Index + match.Length)..])))
            {
                yield return expanded;
            }
        }
    }

    /// <summary>Encodings work on bytes: a value is encoded as UTF-8 unless a utf16 step made bytes of it already.</summary>
    private static IEnumerable<Value> Encode(Value value, string encoding)
    {
        var bytes = value.Bytes ?? Encoding.UTF8.GetBytes(value.Text);
        switch (encoding)
        {
            case "base64":
                yield return Value.FromLiteral(Convert.ToBase64String(bytes));
                break;
            case "base64offset":
                for (var shift = 0; shift < 3; shift++)
                {
                    // The part of the encoding that stays the same wherever the value sits in a longer string.
                    var shifted = new byte[shift + bytes.Length];
                    bytes.CopyTo(shifted, shift);
                    var encoded = Convert.ToBase64String(shifted);
                    var start = new[] { 0, 2, 3 }[shift];
                    var end = new[] { 0, 3, 2 }[(bytes.Length + shift) % 3];
                    yield return Value.FromLiteral(encoded[start..(encoded.Length - end)]);
                }
                break;
            case "utf16le":
            case "wide":
                yield return Value.FromBytes(Encoding.Unicode.GetBytes(value.Text));
                break;
            case "utf16be":
                yield return Value.FromBytes(Encoding.BigEndianUnicode.GetBytes(value.Text));
                break;
            default: // utf16: with a byte order mark
                yield return Value.FromBytes([0xFF, 0xFE, .. Encoding.Unicode.GetBytes(value.Text)]);
                break;
        }
    }

    private static List<Value> ScalarValues(YamlSequenceNode list) => [.. list.Children.Select(ScalarValue)];

    private static Value ScalarValue(YamlNode node)
    {
        if (node is not YamlScalarNode scalar)
        {
            throw Error(node, "a value must be a scalar");
        }
        var text = scalar.Value ?? string.Empty;
        var isNull = scalar.Style == ScalarStyle.Plain && text is "" or "null" or "~" or "Null" or "NULL";
        return isNull ? Value.Null : Value.FromPattern(text);
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static string? Scalar(YamlMappingNode map, string key) => Child(map, key) is YamlScalarNode { Value: { Length: > 0 } value } ? value : null;

    private static string DerivedId(string title) =>
        "title-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(title)))[..16];

    private static SigmaException Error(YamlNode node, string reason) => new(reason, (int)node.Start.Line, (int)node.Start.Column);

    /// <summary>A compiled search identifier (or condition) and what it requires of an event, if anything.</summary>
    internal sealed record Search(Func<EventView, bool> Matches, Requirement? Requirement);

    /// <summary>A rule value on its way through the modifiers.</summary>
    private sealed record Value(string Text, SigmaString Pattern, byte[]? Bytes, bool IsNull)
    {
        public static readonly Value Null = new(string.Empty, SigmaString.Literal(string.Empty), null, IsNull: true);

        public static Value FromPattern(string text) => new(text, SigmaString.Parse(text), null, false);

        public static Value FromLiteral(string text) => new(text, SigmaString.Literal(text), null, false);

        /// <summary>Bytes matched as text: each byte one character, as in a log that printed them.</summary>
        public static Value FromBytes(byte[] bytes)
        {
            var text = Encoding.Latin1.GetString(bytes);
            return new Value(text, SigmaString.Literal(text), bytes, false);
        }
    }
}
