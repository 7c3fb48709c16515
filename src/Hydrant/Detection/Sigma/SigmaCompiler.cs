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

    /// <summary>A file that must hold exactly one detection rule (tests and tools that want one).</summary>
    public SigmaRule Compile(string yaml) =>
        CompileAll(yaml) is [SigmaRule rule] ? rule : throw new SigmaException("expected one detection rule");

    /// <summary>Every document of a rule file, all of which must compile (the first refusal is thrown).</summary>
    public IReadOnlyList<SigmaDocument> CompileAll(string yaml) =>
        [.. CompileFile(yaml).Select(d => d.Document ?? throw d.Error!)];

    /// <summary>The documents of the rule file at <paramref name="path"/>; a file too large or unreadable is one refusal.</summary>
    public IReadOnlyList<CompiledDocument> CompilePath(string path)
    {
        try
        {
            var length = new FileInfo(path).Length;
            return length > RuleLimits.MaxRuleBytes
                ? [new CompiledDocument(null, new SigmaException($"the file is {length} bytes, over the limit of {RuleLimits.MaxRuleBytes} for one rule file"), null, null)]
                : CompileFile(File.ReadAllText(path));
        }
        catch (IOException e)
        {
            return [new CompiledDocument(null, new SigmaException("the file cannot be read: " + e.Message), null, null)];
        }
        catch (UnauthorizedAccessException e)
        {
            return [new CompiledDocument(null, new SigmaException("the file cannot be read: " + e.Message), null, null)];
        }
    }

    /// <summary>
    /// Every YAML document of a rule file (a correlation and the rules it refers to may share one
    /// file, separated by <c>---</c>), each compiled or refused on its own.
    /// </summary>
    public IReadOnlyList<CompiledDocument> CompileFile(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            RuleLimits.CheckYaml(yaml);
            stream.Load(new StringReader(yaml));
        }
        catch (SigmaException e)
        {
            return [new CompiledDocument(null, e, null, null)];
        }
        catch (YamlException e)
        {
            return [new CompiledDocument(null, new SigmaException("not valid YAML: " + e.Message, (int)e.Start.Line, (int)e.Start.Column), null, null)];
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's answer to a document that ends inside an open flow collection.
            return [new CompiledDocument(null, new SigmaException("not valid YAML: the document ends inside an unclosed [ or {"), null, null)];
        }
        if (stream.Documents.Count == 0)
        {
            return [new CompiledDocument(null, new SigmaException("the file holds no rule"), null, null)];
        }
        return [.. stream.Documents.Select(document =>
        {
            var root = document.RootNode as YamlMappingNode;
            var (id, title) = root is null ? (null, null) : (Scalar(root, "id"), Scalar(root, "title"));
            try
            {
                var compiled = CompileDocument(document.RootNode);
                compiled.About = AboutOf(root!, yaml, document);
                return new CompiledDocument(compiled, null, id, title);
            }
            catch (SigmaException e)
            {
                return new CompiledDocument(null, e, id, title);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A shape no check foresaw: this document is refused, the others and the caller go on.
                return new CompiledDocument(null, new SigmaException($"the rule cannot be compiled: {e.Message}", (int)document.RootNode.Start.Line, (int)document.RootNode.Start.Column), id, title);
            }
        })];
    }

    private SigmaDocument CompileDocument(YamlNode node)
    {
        if (node is not YamlMappingNode root)
        {
            throw Error(node, "a rule must be a YAML mapping");
        }
        if (Child(root, "action") is { } action)
        {
            throw Error(action, "Sigma 1 rule collections ('action: global/reset/repeat') are not supported; write each rule in full");
        }
        var title = Scalar(root, "title") ?? throw Error(root, "missing 'title'");
        var id = Scalar(root, "id") ?? DerivedId(title);
        var name = Scalar(root, "name");
        var level = Scalar(root, "level") ?? "medium";
        if (!Levels.Contains(level))
        {
            throw Error(Child(root, "level")!, $"level '{level}' is not one of informational, low, medium, high, critical");
        }
        if (Child(root, "correlation") is { } correlation)
        {
            return CompileCorrelation(root, correlation, id, name, title, level);
        }
        var logsourceNode = Child(root, "logsource") as YamlMappingNode ?? throw Error(root, "missing 'logsource' mapping");
        var logsource = new Logsource(Scalar(logsourceNode, "product"), Scalar(logsourceNode, "service"), Scalar(logsourceNode, "category"));
        if (Child(root, "filter") is YamlMappingNode filter && Child(root, "detection") is null)
        {
            var targets = Names(filter, "rules") ?? throw Error(filter, "a filter needs 'rules': the ids or names of the rules it tunes");
            var detectionOfFilter = new YamlMappingNode(filter.Children.Where(p => p.Key is YamlScalarNode { Value: not "rules" }));
            return new SigmaFilter(id, name, title, logsource, targets, CompileDetection(detectionOfFilter, new ValueBudget()).Matches);
        }
        var tags = Child(root, "tags") is YamlSequenceNode tagList ? tagList.Children.OfType<YamlScalarNode>().Select(t => t.Value ?? string.Empty).ToList() : [];
        var detection = Child(root, "detection") as YamlMappingNode ?? throw Error(root, "missing 'detection' mapping");

        var selections = new List<RuleSelection>();
        var compiled = CompileDetection(detection, new ValueBudget(), selections);
        return new SigmaRule(id, name, title, level, Scalar(root, "status"), logsource, tags, compiled.Matches, compiled.Requirement) { Selections = selections };
    }

    private static SigmaCorrelation CompileCorrelation(YamlMappingNode root, YamlNode node, string id, string? name, string title, string level)
    {
        if (node is not YamlMappingNode correlation)
        {
            throw Error(node, "'correlation' must be a mapping");
        }
        var typeNode = Child(correlation, "type") ?? throw Error(correlation, "a correlation needs 'type'");
        var type = (typeNode as YamlScalarNode)?.Value switch
        {
            "event_count" => CorrelationType.EventCount,
            "value_count" => CorrelationType.ValueCount,
            "temporal" => CorrelationType.Temporal,
            "temporal_ordered" => CorrelationType.TemporalOrdered,
            "value_sum" => CorrelationType.ValueSum,
            "value_avg" => CorrelationType.ValueAvg,
            "value_percentile" => CorrelationType.ValuePercentile,
            var other => throw Error(typeNode, $"correlation type '{other}' is not one of event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile"),
        };
        var rules = Names(correlation, "rules") ?? throw Error(correlation, "a correlation needs 'rules': the ids or names of the rules it correlates");
        var groupBy = Child(correlation, "group-by") is null or YamlSequenceNode { Children.Count: 0 } ? [] : Names(correlation, "group-by") ?? throw Error(Child(correlation, "group-by")!, "'group-by' is a field name or a list of field names");
        var timespanNode = Child(correlation, "timespan") ?? throw Error(correlation, "a correlation needs 'timespan'");
        var timespan = Timespan(timespanNode);

        var bounds = new List<CorrelationBound>();
        string? field = null;
        if (Child(correlation, "condition") is { } conditionNode)
        {
            if (conditionNode is not YamlMappingNode condition)
            {
                throw Error(conditionNode, "a correlation condition is a mapping such as 'gte: 10'");
            }
            foreach (var (keyNode, valueNode) in condition.Children)
            {
                var key = ((YamlScalarNode)keyNode).Value;
                if (key == "field")
                {
                    field = (valueNode as YamlScalarNode)?.Value is { Length: > 0 } f ? f : throw Error(valueNode, "'field' names one field");
                    continue;
                }
                if (key is not ("gt" or "gte" or "lt" or "lte" or "eq" or "neq"))
                {
                    throw Error(keyNode, $"'{key}' is not a condition operator (gt, gte, lt, lte, eq, neq, field)");
                }
                if (valueNode is not YamlScalarNode { Value: { } text } || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bound))
                {
                    throw Error(valueNode, $"'{key}' takes a number");
                }
                bounds.Add(new CorrelationBound(key, bound));
            }
            if (bounds.Count == 0)
            {
                throw Error(condition, "a correlation condition needs at least one of gt, gte, lt, lte, eq, neq");
            }
        }
        else if (type is not (CorrelationType.Temporal or CorrelationType.TemporalOrdered))
        {
            throw Error(correlation, $"a {typeNode} correlation needs a 'condition'");
        }
        var needsField = type is CorrelationType.ValueCount or CorrelationType.ValueSum or CorrelationType.ValueAvg or CorrelationType.ValuePercentile;
        if (needsField && field is null)
        {
            throw Error(Child(correlation, "condition") ?? correlation, $"a {typeNode} correlation needs 'field' in its condition");
        }
        if (type == CorrelationType.TemporalOrdered && bounds.Count > 0)
        {
            throw Error(Child(correlation, "condition")!, "temporal_ordered takes no condition: every rule must match, in order");
        }
        if (type is CorrelationType.Temporal or CorrelationType.TemporalOrdered && rules.Count < 2)
        {
            throw Error(Child(correlation, "rules")!, $"a {typeNode} correlation relates at least two rules");
        }

        var aliases = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        if (Child(correlation, "aliases") is { } aliasesNode)
        {
            if (aliasesNode is not YamlMappingNode aliasMap)
            {
                throw Error(aliasesNode, "'aliases' maps an alias to (rule name: field name)");
            }
            foreach (var (aliasNode, byRuleNode) in aliasMap.Children)
            {
                if (byRuleNode is not YamlMappingNode byRule || byRule.Children.Any(p => p.Value is not YamlScalarNode { Value.Length: > 0 }))
                {
                    throw Error(byRuleNode, "an alias maps each rule name to one field name");
                }
                aliases[((YamlScalarNode)aliasNode).Value!] = byRule.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!, StringComparer.Ordinal);
            }
        }
        var generate = Child(root, "generate") switch
        {
            null => false,
            YamlScalarNode { Value: "true" or "True" or "yes" } => true,
            YamlScalarNode { Value: "false" or "False" or "no" } => false,
            var other => throw Error(other, "'generate' is true or false"),
        };
        return new SigmaCorrelation(id, name, title, level, Scalar(root, "status"), type, rules, groupBy, timespan, bounds, field, aliases, generate);
    }

    /// <summary>A Sigma timespan: a whole number and s, m, h or d ("90m").</summary>
    private static TimeSpan Timespan(YamlNode node)
    {
        var text = (node as YamlScalarNode)?.Value ?? string.Empty;
        if (text.Length >= 2 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            long? seconds = text[^1] switch
            {
                's' => n,
                'm' => n <= long.MaxValue / 60 ? n * 60 : long.MaxValue,
                'h' => n <= long.MaxValue / 3600 ? n * 3600 : long.MaxValue,
                'd' => n <= long.MaxValue / 86400 ? n * 86400 : long.MaxValue,
                _ => null,
            };
            if (seconds > RuleLimits.MaxTimespan.TotalSeconds)
            {
                throw Error(node, $"timespan '{text}' is longer than the longest allowed, {RuleLimits.MaxTimespan.TotalDays:0}d (windows are kept in memory that long)");
            }
            if (seconds is { } value)
            {
                return TimeSpan.FromSeconds(value);
            }
        }
        throw Error(node, $"timespan '{text}' is not a number followed by s, m, h or d (as in 90m)");
    }

    private static RuleAbout AboutOf(YamlMappingNode root, string yaml, YamlDocument document)
    {
        // The document's own text (a correlation's file holds its rules' documents too): a block
        // mapping's end mark is its start, so the text runs to the end of its last node.
        var start = (int)Math.Min(document.RootNode.Start.Index, yaml.Length);
        var end = (int)Math.Min(document.AllNodes.Max(n => n.End.Index), yaml.Length);
        static IReadOnlyList<string> List(YamlMappingNode map, string key) => Child(map, key) switch
        {
            YamlSequenceNode items => [.. items.Children.OfType<YamlScalarNode>().Select(i => i.Value).OfType<string>()],
            YamlScalarNode { Value: { Length: > 0 } one } => [one],
            _ => [],
        };
        return new RuleAbout(Scalar(root, "description"), Scalar(root, "author"), Scalar(root, "date"), List(root, "references"), List(root, "falsepositives"), List(root, "tags"),
            end > start ? yaml[start..end].TrimEnd() : string.Empty);
    }

    /// <summary>A scalar or a non-empty list of scalars, as a list; null when absent or of another shape.</summary>
    private static List<string>? Names(YamlMappingNode map, string key) => Child(map, key) switch
    {
        YamlSequenceNode list when list.Children.Count > 0 => [.. list.Children.Select(c => (c as YamlScalarNode)?.Value is { Length: > 0 } v ? v : throw Error(c, $"each of '{key}' is a name"))],
        YamlScalarNode { Value: { Length: > 0 } one } => [one],
        _ => null,
    };

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
            _ => Expand(values, spec, budget).Select(v => CompileValue(v, spec)).ToList(),
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

    /// <summary>
    /// expand, windash and the encodings, in that order; each may turn one value into several, so
    /// each step is bounded (<see cref="RuleLimits.MaxValuesPerField"/>, <see cref="RuleLimits.MaxCharsPerField"/>)
    /// before the next runs: base64offset thrice per step would otherwise grow without limit.
    /// </summary>
    private List<Value> Expand(List<Value> values, Modifiers spec, ValueBudget budget)
    {
        var result = Bounded(values);
        if (spec.Expand)
        {
            result = Bounded(result.SelectMany(ExpandPlaceholders));
        }
        if (spec.Windash)
        {
            result = Bounded(result.SelectMany(v => Dashes.Select(d => Value.FromPattern(WindashVariant(v.Text, d))).DistinctBy(x => x.Text)));
        }
        foreach (var encoding in spec.Encodings)
        {
            result = Bounded(result.SelectMany(v => Encode(v, encoding)));
        }
        budget.Spend(result.Count);
        return result;
    }

    private static List<Value> Bounded(IEnumerable<Value> values)
    {
        var list = new List<Value>();
        long chars = 0;
        foreach (var value in values)
        {
            chars += value.Text.Length;
            if (list.Count == RuleLimits.MaxValuesPerField || chars > RuleLimits.MaxCharsPerField)
            {
                throw new SigmaException($"the values expand past {RuleLimits.MaxValuesPerField} values or {RuleLimits.MaxCharsPerField} characters for one field");
            }
            list.Add(value);
        }
        return list;
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

    /// <summary>Every combination of the configured values of the value's %placeholders%, generated lazily (the caller bounds how many are taken).</summary>
    private IEnumerable<Value> ExpandPlaceholders(Value value)
    {
        var matches = Regex.Matches(value.Text, @"(?<!\\)%(?<name>[^%]+)%");
        if (matches.Count == 0)
        {
            yield return value;
            yield break;
        }
        if (matches.Count > MaxPlaceholdersPerValue)
        {
            throw new SigmaException($"a value may hold at most {MaxPlaceholdersPerValue} placeholders");
        }
        var choices = new List<IReadOnlyList<string>>();
        foreach (Match match in matches)
        {
            choices.Add(options.Placeholders.TryGetValue(match.Groups["name"].Value, out var replacements) && replacements.Count > 0
                ? replacements
                : throw new SigmaException($"placeholder %{match.Groups["name"].Value}% has no configured values"));
        }
        // An odometer over the choices: the last placeholder turns fastest.
        var at = new int[choices.Count];
        while (true)
        {
            var text = new StringBuilder();
            var from = 0;
            for (var i = 0; i < matches.Count; i++)
            {
                text.Append(value.Text, from, matches[i].Index - from).Append(choices[i][at[i]]);
                from = matches[i].Index + matches[i].Length;
            }
            yield return Value.FromPattern(text.Append(value.Text, from, value.Text.Length - from).ToString());
            var digit = choices.Count - 1;
            while (digit >= 0 && ++at[digit] == choices[digit].Count)
            {
                at[digit--] = 0;
            }
            if (digit < 0)
            {
                yield break;
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
                    // A value too short to leave a stable part at this offset has no variant there:
                    // an empty one would match every string.
                    if (encoded.Length - end > start)
                    {
                        yield return Value.FromLiteral(encoded[start..(encoded.Length - end)]);
                    }
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

    private const int MaxPlaceholdersPerValue = 16;

    /// <summary>Values one document may still expand to, over all its fields (<see cref="RuleLimits.MaxValuesPerRule"/>).</summary>
    private sealed class ValueBudget
    {
        private int _left = RuleLimits.MaxValuesPerRule;

        public void Spend(int values)
        {
            _left -= values;
            if (_left < 0)
            {
                throw new SigmaException($"the rule's values expand past {RuleLimits.MaxValuesPerRule} in all");
            }
        }
    }

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
