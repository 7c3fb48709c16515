using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Hydrant.Detection.Sigma;

/// <summary>Correlations: their kind, rules, grouping, timespan and condition.</summary>
public sealed partial class SigmaCompiler
{
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
}
