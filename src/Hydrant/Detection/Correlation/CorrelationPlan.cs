using Hydrant.Detection.Sigma;

namespace Hydrant.Detection.Correlation;

/// <summary>A correlation fed by a rule: the correlation, and which of its rules (by position) the rule is.</summary>
public readonly record struct Subscription(CorrelationNode Node, int Member);

/// <summary>A correlation in force, with the rules it relates resolved in order.</summary>
public sealed class CorrelationNode(SigmaCorrelation correlation, IReadOnlyList<SigmaDocument> members)
{
    public SigmaCorrelation Correlation { get; } = correlation;

    /// <summary>The rules (or correlations) it relates, in the order the rule lists them.</summary>
    public IReadOnlyList<SigmaDocument> Members { get; } = members;

    /// <summary>Correlations that relate this one (chaining).</summary>
    public IReadOnlyList<Subscription> Parents { get; internal set; } = [];

    /// <summary>False when another correlation relates this one without <c>generate: true</c>.</summary>
    public bool RaisesAlerts { get; internal set; } = true;

    /// <summary>
    /// With state shared between nodes: whether its windows are kept in the shared state itself.
    /// Those that fire as they fill (event_count, value_count, value_sum and temporal with lower
    /// bounds only; temporal_ordered), fed by detection rules and feeding no other correlation.
    /// The others are kept by one node, to which the rest forward their hits: those judged when an
    /// aligned window closes (upper bounds, value_avg, value_percentile), and every correlation of
    /// a chain, whose inner firings feed the outer ones inside one engine.
    /// </summary>
    public bool KeptInSharedState => Correlation.FiresEarly && !InChain;

    /// <summary>
    /// What one node keeps for a hit routed to its keeper, and how long it may need it: the hit's
    /// own group for a correlation on its own; for a correlation in a chain, the whole chain (named
    /// by its root), so the one engine sees every hit the chain relates.
    /// </summary>
    public (string Key, TimeSpan Span) Keeping(string[] groupValues) => InChain
        ? (RootId + ":*", ChainSpan)
        : (Correlation.Id + ":" + CorrelationEngine.GroupKey(Correlation, groupValues), Correlation.Timespan);

    private bool InChain => Parents.Count > 0 || Members.Any(m => m is not SigmaRule);

    private string RootId => Parents.Count == 0 ? Correlation.Id : Parents.Select(p => p.Node.RootId).Min(StringComparer.Ordinal)!;

    private TimeSpan ChainSpan => Parents.Aggregate(Correlation.Timespan, (longest, parent) => TimeSpan.FromTicks(Math.Max(longest.Ticks, parent.Node.ChainSpan.Ticks)));
}

/// <summary>
/// The correlations of a rule set resolved against its rules: which correlations each detection
/// rule feeds, how chained correlations feed each other, and which rules raise alerts of their own
/// (per the specification, a rule a correlation relates raises none unless that correlation says
/// <c>generate: true</c>). A correlation that names nothing loaded, refers to itself, or groups by
/// a field its chained correlation does not carry is refused.
/// </summary>
public sealed class CorrelationPlan
{
    private static readonly IReadOnlyList<Subscription> NoSubscriptions = [];
    private readonly Dictionary<SigmaRule, List<Subscription>> _byRule = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<SigmaDocument> _silent = new(ReferenceEqualityComparer.Instance);

    private CorrelationPlan(IReadOnlyList<CorrelationNode> nodes) => Nodes = nodes;

    public static CorrelationPlan Empty { get; } = new([]);

    public IReadOnlyList<CorrelationNode> Nodes { get; }

    /// <summary>The correlations a detection rule feeds.</summary>
    public IReadOnlyList<Subscription> For(SigmaRule rule) => _byRule.TryGetValue(rule, out var subscriptions) ? subscriptions : NoSubscriptions;

    /// <summary>False when the rule only feeds correlations (none of which asks for <c>generate</c>).</summary>
    public bool RaisesAlerts(SigmaRule rule) => !_silent.Contains(rule);

    /// <summary>Resolves the correlations among <paramref name="documents"/>; refusals are added to <paramref name="refusals"/>.</summary>
    public static CorrelationPlan Resolve(IReadOnlyList<LoadedRule> rules, IReadOnlyList<LoadedDocument> documents, List<RuleRefusal> refusals, out IReadOnlyList<LoadedCorrelation> loaded)
    {
        var candidates = documents.Where(d => d.Document is SigmaCorrelation).Select(d => new LoadedCorrelation((SigmaCorrelation)d.Document, d.Source)).ToList();
        if (candidates.Count == 0)
        {
            loaded = [];
            return Empty;
        }

        // Refusing one correlation can strand another that relates it: repeat until nothing changes.
        var members = new Dictionary<SigmaCorrelation, List<SigmaDocument>>(ReferenceEqualityComparer.Instance);
        bool changed;
        do
        {
            changed = false;
            members.Clear();
            foreach (var candidate in candidates.ToList())
            {
                if (Problem(candidate.Correlation, rules, candidates, out var resolved) is { } problem)
                {
                    refusals.Add(new RuleRefusal(candidate.Source, $"correlation '{candidate.Correlation.Title}' {problem}", candidate.Correlation.Id));
                    candidates.Remove(candidate);
                    changed = true;
                }
                else
                {
                    members[candidate.Correlation] = resolved;
                }
            }
            foreach (var cyclic in candidates.Where(c => Reaches(c.Correlation, c.Correlation, members, [])).ToList())
            {
                refusals.Add(new RuleRefusal(cyclic.Source, $"correlation '{cyclic.Correlation.Title}' relates itself through a chain of correlations", cyclic.Correlation.Id));
                candidates.Remove(cyclic);
                changed = true;
            }
        }
        while (changed && candidates.Count > 0);

        var nodes = candidates.Select(c => new CorrelationNode(c.Correlation, members[c.Correlation])).ToList();
        var plan = new CorrelationPlan(nodes);
        var nodeOf = new Dictionary<SigmaDocument, CorrelationNode>(ReferenceEqualityComparer.Instance);
        foreach (var node in nodes)
        {
            nodeOf[node.Correlation] = node;
        }
        var parents = nodes.ToDictionary(n => n, _ => new List<Subscription>());
        var generated = new HashSet<SigmaDocument>(ReferenceEqualityComparer.Instance);
        foreach (var node in nodes)
        {
            for (var m = 0; m < node.Members.Count; m++)
            {
                var member = node.Members[m];
                if (node.Correlation.Generate)
                {
                    generated.Add(member);
                }
                if (member is SigmaRule rule)
                {
                    if (!plan._byRule.TryGetValue(rule, out var list))
                    {
                        plan._byRule[rule] = list = [];
                    }
                    list.Add(new Subscription(node, m));
                }
                else
                {
                    parents[nodeOf[member]].Add(new Subscription(node, m));
                }
            }
        }
        foreach (var node in nodes)
        {
            node.Parents = parents[node];
            node.RaisesAlerts = node.Parents.Count == 0 || generated.Contains(node.Correlation);
        }
        foreach (var rule in plan._byRule.Keys.Where(r => !generated.Contains(r)))
        {
            plan._silent.Add(rule);
        }
        loaded = candidates;
        return plan;
    }

    private static string? Problem(SigmaCorrelation correlation, IReadOnlyList<LoadedRule> rules, List<LoadedCorrelation> correlations, out List<SigmaDocument> resolved)
    {
        resolved = [];
        foreach (var reference in correlation.Rules)
        {
            var member = (SigmaDocument?)rules.FirstOrDefault(r => r.Rule.IsNamed(reference))?.Rule
                ?? correlations.FirstOrDefault(c => c.Correlation.IsNamed(reference))?.Correlation;
            if (member is null)
            {
                return $"names rule '{reference}', which is not loaded";
            }
            if (ReferenceEquals(member, correlation))
            {
                return "relates itself";
            }
            if (resolved.Contains(member, ReferenceEqualityComparer.Instance))
            {
                return $"names rule '{reference}' twice";
            }
            if (member is SigmaCorrelation child)
            {
                // A chained correlation's events are its firings: all they carry are the child's group values.
                foreach (var field in correlation.GroupBy.Append(correlation.Field).OfType<string>())
                {
                    var wanted = correlation.FieldFor(field, child);
                    if (!child.GroupBy.Contains(wanted, StringComparer.Ordinal))
                    {
                        return $"uses field '{wanted}' of correlation '{reference}', which does not group by it";
                    }
                }
            }
            resolved.Add(member);
        }
        return null;
    }

    private static bool Reaches(SigmaCorrelation from, SigmaCorrelation target, Dictionary<SigmaCorrelation, List<SigmaDocument>> members, HashSet<SigmaCorrelation> seen)
    {
        if (!members.TryGetValue(from, out var list) || !seen.Add(from))
        {
            return false;
        }
        foreach (var child in list.OfType<SigmaCorrelation>())
        {
            if (ReferenceEquals(child, target) || Reaches(child, target, members, seen))
            {
                return true;
            }
        }
        return false;
    }
}
