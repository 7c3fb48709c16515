using Hydrant.Detection.Sigma;
using Hydrant.Events.Fields;

namespace Hydrant.Detection;

/// <summary>Why an event matched a rule: each of the rule's search identifiers, whether it matched, and the event's values of the fields it compares.</summary>
public sealed record MatchExplanation(string RuleId, string Title, IReadOnlyList<SelectionExplanation> Selections);

public sealed record SelectionExplanation(string Name, bool Matched, IReadOnlyDictionary<string, string?> Fields);

public static class MatchExplainer
{
    /// <summary>
    /// The rules of <paramref name="ruleSet"/> behind <paramref name="ruleId"/> that match the event, explained: the
    /// rule itself for a detection rule, the rules it counts for a correlation (recursively for chained ones).
    /// </summary>
    public static IReadOnlyList<MatchExplanation> Explain(RuleSet ruleSet, string ruleId, ReadOnlyMemory<byte> json)
    {
        using var view = new EventView(json);
        var explained = new List<MatchExplanation>();
        foreach (var rule in RulesBehind(ruleSet, ruleId, depth: 0).Distinct())
        {
            if (!rule.Matches(view))
            {
                continue;
            }
            explained.Add(new MatchExplanation(rule.Id, rule.Title, [.. rule.Selections.Select(s => new SelectionExplanation(s.Name, s.Matches(view),
                s.Fields.ToDictionary(f => f, f => view.TryGetField(FieldName.Of(f), out var value) ? value.Text ?? value.RawText : null, StringComparer.Ordinal)))]));
        }
        return explained;
    }

    private static IEnumerable<SigmaRule> RulesBehind(RuleSet ruleSet, string ruleId, int depth)
    {
        // Chains are at most a few links long; the bound only guards against a cycle.
        if (depth > 8)
        {
            yield break;
        }
        foreach (var loaded in ruleSet.Rules.Where(r => r.Rule.Id == ruleId))
        {
            yield return loaded.Rule;
        }
        foreach (var correlation in ruleSet.Correlations.Where(c => c.Correlation.Id == ruleId))
        {
            foreach (var member in correlation.Correlation.Rules)
            {
                var named = ruleSet.Rules.Where(r => r.Rule.IsNamed(member)).Select(r => r.Rule.Id)
                    .Concat(ruleSet.Correlations.Where(c => c.Correlation.IsNamed(member)).Select(c => c.Correlation.Id));
                foreach (var id in named.Distinct(StringComparer.Ordinal))
                {
                    foreach (var rule in RulesBehind(ruleSet, id, depth + 1))
                    {
                        yield return rule;
                    }
                }
            }
        }
    }
}
