using Hydrant.Detection.Sigma;

namespace Hydrant.Detection;

/// <summary>A rule that could not be loaded, and why.</summary>
public sealed record RuleRefusal(string Source, string Reason);

/// <summary>A loaded rule and where it came from (a file path, or "default:" for the built-in pack).</summary>
public sealed record LoadedRule(SigmaRule Rule, string Source);

/// <summary>
/// The compiled rules, indexed by logsource so an event is tested only against rules whose
/// logsource can cover it: product, service and category each either name the event's or are
/// left open by the rule, which makes eight lookups per event whatever the rule count.
/// </summary>
public sealed class RuleSet
{
    private readonly Dictionary<(string?, string?, string?), List<SigmaRule>> _byLogsource = [];

    public RuleSet(IEnumerable<LoadedRule> rules, IEnumerable<RuleRefusal> refusals)
    {
        Rules = [.. rules];
        Refusals = [.. refusals];
        foreach (var loaded in Rules)
        {
            var l = loaded.Rule.Logsource;
            var key = (l.Product?.ToLowerInvariant(), l.Service?.ToLowerInvariant(), l.Category?.ToLowerInvariant());
            if (!_byLogsource.TryGetValue(key, out var list))
            {
                _byLogsource[key] = list = [];
            }
            list.Add(loaded.Rule);
        }
    }

    public IReadOnlyList<LoadedRule> Rules { get; }

    public IReadOnlyList<RuleRefusal> Refusals { get; }

    /// <summary>The rules whose logsource covers the event's.</summary>
    public IEnumerable<SigmaRule> Candidates(EventView e)
    {
        var product = e.Product?.ToLowerInvariant();
        var service = e.Service?.ToLowerInvariant();
        var category = e.Category?.ToLowerInvariant();
        foreach (var p in Options(product))
        {
            foreach (var s in Options(service))
            {
                foreach (var c in Options(category))
                {
                    if (_byLogsource.TryGetValue((p, s, c), out var rules))
                    {
                        foreach (var rule in rules)
                        {
                            yield return rule;
                        }
                    }
                }
            }
        }
    }

    /// <summary>The rules that fire on the event.</summary>
    public IEnumerable<SigmaRule> Matching(EventView e) => Candidates(e).Where(rule => rule.Matches(e));

    /// <summary>Every *.yml / *.yaml under a folder (recursively), plus the built-in pack when asked.</summary>
    public static RuleSet Load(string? directory, SigmaCompiler compiler, bool includeDefaultPack)
    {
        var rules = new List<LoadedRule>();
        var refusals = new List<RuleRefusal>();
        void Add(string source, string yaml)
        {
            try
            {
                rules.Add(new LoadedRule(compiler.Compile(yaml), source));
            }
            catch (SigmaException e)
            {
                refusals.Add(new RuleRefusal(source, e.Message));
            }
        }
        if (includeDefaultPack)
        {
            foreach (var (name, yaml) in DefaultRules.All())
            {
                Add("default:" + name, yaml);
            }
        }
        if (directory is not null)
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal))
            {
                Add(file, File.ReadAllText(file));
            }
        }
        return new RuleSet(rules, refusals);
    }

    private static string?[] Options(string? value) => value is null ? [null] : [value, null];
}
