using System.Buffers;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Fields;
using Hydrant.Events.Formats.Windows;

namespace Hydrant.Detection;

/// <summary>A rule that could not be loaded, and why (with its id when it compiled but names something not loaded).</summary>
public sealed record RuleRefusal(string Source, string Reason, string? Id = null);

/// <summary>A document of a rule file as loaded, and where it came from (a file path, "default:" for the built-in pack, "api:" for the API).</summary>
public sealed record LoadedDocument(SigmaDocument Document, string Source);

/// <summary>A detection rule in force (filters applied) and where it came from.</summary>
public sealed record LoadedRule(SigmaRule Rule, string Source);

/// <summary>A correlation rule in force, its rules resolved, and where it came from.</summary>
public sealed record LoadedCorrelation(SigmaCorrelation Correlation, string Source);

/// <summary>
/// The compiled rules, indexed twice so an event is tested only against rules that could match
/// it. First by logsource: product, service and category each either name the event's or are left
/// open by the rule (eight lookups per event). Then, inside a logsource, by literal value: a rule
/// whose detection requires a field to equal one of some plain values is found only through the
/// event's value of that field; the other rules of the logsource are always tested. Filters are
/// applied to the rules they name, and correlations resolved to the rules they relate
/// (<see cref="Plan"/>); a filter or correlation that names nothing loaded is refused.
/// </summary>
public sealed class RuleSet
{
    [ThreadStatic]
    private static List<SigmaRule>? _threadCandidates;
    [ThreadStatic]
    private static HashSet<SigmaRule>? _threadSeen;

    private readonly Dictionary<(string?, string?, string?), Bucket> _byLogsource = [];
    private readonly IReadOnlyList<LoadedDocument> _documents;
    private readonly IReadOnlyList<RuleRefusal> _loadRefusals;

    public RuleSet(IEnumerable<LoadedDocument> documents, IEnumerable<RuleRefusal> refusals)
    {
        _documents = [.. documents];
        _loadRefusals = [.. refusals];
        var derivedRefusals = new List<RuleRefusal>();
        Rules = ApplyFilters(_documents, derivedRefusals);
        Plan = CorrelationPlan.Resolve(Rules, _documents, derivedRefusals, out var correlations);
        Correlations = correlations;
        Refusals = [.. _loadRefusals, .. derivedRefusals];
        foreach (var loaded in Rules)
        {
            var l = loaded.Rule.Logsource;
            var key = (l.Product?.ToLowerInvariant(), l.Service?.ToLowerInvariant(), l.Category?.ToLowerInvariant());
            if (!_byLogsource.TryGetValue(key, out var bucket))
            {
                _byLogsource[key] = bucket = new Bucket();
            }
            bucket.Add(loaded.Rule);
        }
        foreach (var bucket in _byLogsource.Values)
        {
            bucket.Seal();
        }
    }

    public IReadOnlyList<LoadedRule> Rules { get; }

    public IReadOnlyList<LoadedCorrelation> Correlations { get; }

    /// <summary>Filters as loaded (applied to the rules they name).</summary>
    public IEnumerable<LoadedDocument> Filters => _documents.Where(d => d.Document is SigmaFilter);

    public IReadOnlyList<RuleRefusal> Refusals { get; }

    /// <summary>Which correlations each rule feeds, and which rules raise alerts of their own.</summary>
    public CorrelationPlan Plan { get; }

    /// <summary>True when a loaded document (rule, filter or correlation) has this id.</summary>
    public bool Contains(string id) => _documents.Any(d => d.Document.Id == id);

    /// <summary>This set with more documents (API rules) added: filters and correlations are resolved again over all of them.</summary>
    public RuleSet With(IEnumerable<LoadedDocument> documents, IEnumerable<RuleRefusal> refusals) =>
        new([.. _documents, .. documents], [.. _loadRefusals, .. refusals]);

    /// <summary>
    /// Adds the rules that fire on the event to <paramref name="matched"/>, in index order. The
    /// candidates (rules whose logsource covers the event's and whose required values it has) are
    /// gathered into per-thread lists, no iterator or set made per event.
    /// </summary>
    public void Match(EventView e, List<SigmaRule> matched)
    {
        var candidates = _threadCandidates ??= [];
        var seen = _threadSeen ??= new HashSet<SigmaRule>(ReferenceEqualityComparer.Instance);
        candidates.Clear();
        seen.Clear();
        var product = e.Product?.ToLowerInvariant();
        var service = e.Service?.ToLowerInvariant();
        var category = e.Category?.ToLowerInvariant();
        // A Windows category can stand for more (a Sysmon registry event is also a registry_event).
        var also = product == "windows" && category is not null ? WindowsLogsources.Default.AlsoOf(category) : [];
        // Each attribute the event's, then left open by the rule.
        for (var p = 0; p < (product is null ? 1 : 2); p++)
        {
            for (var s = 0; s < (service is null ? 1 : 2); s++)
            {
                var productKey = p == 0 ? product : null;
                var serviceKey = s == 0 ? service : null;
                if (category is not null)
                {
                    AddBucket(e, (productKey, serviceKey, category), candidates, seen);
                    foreach (var more in also)
                    {
                        AddBucket(e, (productKey, serviceKey, more), candidates, seen);
                    }
                }
                AddBucket(e, (productKey, serviceKey, null), candidates, seen);
            }
        }
        foreach (var rule in candidates)
        {
            if (rule.Matches(e))
            {
                matched.Add(rule);
            }
        }
    }

    private void AddBucket(EventView e, (string?, string?, string?) key, List<SigmaRule> candidates, HashSet<SigmaRule> seen)
    {
        if (_byLogsource.TryGetValue(key, out var bucket))
        {
            bucket.AddCandidates(e, candidates, seen);
        }
    }

    /// <summary>
    /// The per-event path of the detector and of hunt: adds the rules that fire on the event to
    /// <paramref name="matched"/> and the hits it gives the correlations they feed to
    /// <paramref name="hits"/>. Returns the event as alerts show it when a rule fired, else null.
    /// Pure (safe on any thread): it reads the rule set and the event, not the windows.
    /// </summary>
    public AlertEvent? Evaluate(EventView view, in EventEnvelope envelope, List<SigmaRule> matched, List<CorrelationHit> hits) =>
        Evaluate(view, envelope, matched, hits, static (_, behind) => behind);

    /// <summary>As the detector's, with the event behind the alerts completed by <paramref name="locate"/> (hunt names its file and record).</summary>
    public AlertEvent? Evaluate(EventView view, in EventEnvelope envelope, List<SigmaRule> matched, List<CorrelationHit> hits, Func<EventView, AlertEvent, AlertEvent> locate)
    {
        var first = matched.Count;
        Match(view, matched);
        if (matched.Count == first)
        {
            return null;
        }
        var behind = locate(view, new AlertEvent(envelope.Id, Timestamps.ToText(envelope.TimestampMs), envelope.EventType, envelope.SourceIP));
        for (var i = first; i < matched.Count; i++)
        {
            CorrelationHit.Extract(Plan, matched[i], view, behind, envelope.TimestampMs, hits);
        }
        return behind;
    }

    /// <summary>The rules that fire on the event.</summary>
    public IReadOnlyList<SigmaRule> Matching(EventView e)
    {
        var matched = new List<SigmaRule>();
        Match(e, matched);
        return matched;
    }

    /// <summary>Every *.yml / *.yaml under a folder (recursively), plus the built-in pack when asked.</summary>
    public static RuleSet Load(string? directory, SigmaCompiler compiler, bool includeDefaultPack)
    {
        var documents = new List<LoadedDocument>();
        var refusals = new List<RuleRefusal>();
        void Add(string source, IReadOnlyList<CompiledDocument> file)
        {
            foreach (var compiled in file)
            {
                if (compiled.Document is { } document)
                {
                    documents.Add(new LoadedDocument(document, source));
                }
                else
                {
                    refusals.Add(new RuleRefusal(source, compiled.Error!.Message));
                }
            }
        }
        if (includeDefaultPack)
        {
            foreach (var (name, yaml) in DefaultRules.All())
            {
                Add("default:" + name, compiler.CompileFile(yaml));
            }
        }
        if (directory is not null)
        {
            // Files compile on every core (the compiler holds nothing between documents); they are
            // added in path order, so the set does not depend on which finished first.
            var files = RuleFiles(directory).ToList();
            var compiled = new IReadOnlyList<CompiledDocument>[files.Count];
            Parallel.For(0, files.Count, i => compiled[i] = compiler.CompilePath(files[i]));
            for (var i = 0; i < files.Count; i++)
            {
                Add(files[i], compiled[i]);
            }
        }
        return new RuleSet(documents, refusals);
    }

    /// <summary>The rule files of a folder: *.yml and *.yaml (any case) but rule tests (*.test.yml), recursively, in ordinal path order.</summary>
    public static IEnumerable<string> RuleFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*.*", SearchOption.AllDirectories)
            .Where(f => IsYaml(f) && !Testing.RuleTestFile.IsTestFile(f))
            .Order(StringComparer.Ordinal);

    /// <summary>A .yml or .yaml file (any case).</summary>
    internal static bool IsYaml(string path) =>
        path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Each filter tunes the rules it names (by id or name); naming no loaded rule is an error worth reporting.</summary>
    private static List<LoadedRule> ApplyFilters(IReadOnlyList<LoadedDocument> documents, List<RuleRefusal> refusals)
    {
        var rules = documents.Where(d => d.Document is SigmaRule).Select(d => new LoadedRule((SigmaRule)d.Document, d.Source)).ToList();
        foreach (var (filter, source) in documents.Where(d => d.Document is SigmaFilter).Select(d => ((SigmaFilter)d.Document, d.Source)))
        {
            foreach (var target in filter.Rules)
            {
                var index = rules.FindIndex(r => r.Rule.IsNamed(target));
                if (index < 0)
                {
                    refusals.Add(new RuleRefusal(source, $"filter '{filter.Title}' names rule '{target}', which is not loaded", filter.Id));
                    continue;
                }
                rules[index] = rules[index] with { Rule = rules[index].Rule.FilteredBy(filter) };
            }
        }
        return rules;
    }

    /// <summary>The rules of one logsource: those indexed by a required field value or substring, and the rest.</summary>
    private sealed class Bucket
    {
        private readonly List<SigmaRule> _always = [];
        private readonly Dictionary<string, Dictionary<string, List<SigmaRule>>> _byField = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SubstringIndex> _bySubstring = new(StringComparer.Ordinal);
        // The indexes by field, with the fields' names made once for lookups: built when sealed.
        private (FieldName Field, Dictionary<string, List<SigmaRule>> ByValue)[] _valueIndexes = [];
        private (FieldName? Field, SubstringIndex Index)[] _substringIndexes = [];

        public void Add(SigmaRule rule)
        {
            switch (rule.Requirement)
            {
                case null:
                    _always.Add(rule);
                    break;
                case { IsSubstring: true } requirement:
                    if (!_bySubstring.TryGetValue(requirement.Field, out var index))
                    {
                        _bySubstring[requirement.Field] = index = new SubstringIndex();
                    }
                    index.Add(rule, requirement.Values);
                    break;
                case var requirement:
                    if (!_byField.TryGetValue(requirement.Field, out var byValue))
                    {
                        _byField[requirement.Field] = byValue = new Dictionary<string, List<SigmaRule>>(StringComparer.OrdinalIgnoreCase);
                    }
                    foreach (var value in requirement.Values)
                    {
                        if (!byValue.TryGetValue(value, out var rules))
                        {
                            byValue[value] = rules = [];
                        }
                        rules.Add(rule);
                    }
                    break;
            }
        }

        /// <summary>Builds the substring searchers once all rules are in (the set is read by several threads after).</summary>
        public void Seal()
        {
            foreach (var index in _bySubstring.Values)
            {
                index.Seal();
            }
            _valueIndexes = [.. _byField.Select(f => (FieldName.Of(f.Key), f.Value))];
            _substringIndexes = [.. _bySubstring.Select(f => (f.Key == Requirement.AnyString ? null : FieldName.Of(f.Key), f.Value))];
        }

        /// <summary>Adds the rules always tested, then those the event's values and substrings point at, each once (<paramref name="seen"/>).</summary>
        public void AddCandidates(EventView e, List<SigmaRule> into, HashSet<SigmaRule> seen)
        {
            into.AddRange(_always);
            foreach (var (field, byValue) in _valueIndexes)
            {
                if (!e.TryGetField(field, out var value))
                {
                    continue;
                }
                if (value.Kind != System.Text.Json.JsonValueKind.Array)
                {
                    AddByValue(byValue, value.Text, into, seen);
                    continue;
                }
                foreach (var item in value.Elements)
                {
                    AddByValue(byValue, item.Text, into, seen);
                }
            }
            foreach (var (field, index) in _substringIndexes)
            {
                if (field is null)
                {
                    foreach (var text in e.Strings)
                    {
                        index.AddMatches(text, into, seen);
                    }
                }
                else if (e.TryGetField(field, out var value))
                {
                    if (value.Kind != System.Text.Json.JsonValueKind.Array)
                    {
                        if (value.Text is { } text)
                        {
                            index.AddMatches(text, into, seen);
                        }
                        continue;
                    }
                    foreach (var item in value.Elements)
                    {
                        if (item.Text is { } text)
                        {
                            index.AddMatches(text, into, seen);
                        }
                    }
                }
            }
        }

        private static void AddByValue(Dictionary<string, List<SigmaRule>> byValue, string? text, List<SigmaRule> into, HashSet<SigmaRule> seen)
        {
            if (text is not null && byValue.TryGetValue(text, out var rules))
            {
                foreach (var rule in rules)
                {
                    if (seen.Add(rule))
                    {
                        into.Add(rule);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Rules of one field keyed by substrings they need (case-insensitive). All needles are found
    /// in one pass with <see cref="SearchValues{T}"/> (vectorised multi-string search), so an
    /// event's value is scanned once however many rules there are, and copies of one needle cost
    /// nothing more.
    /// </summary>
    private sealed class SubstringIndex
    {
        private readonly Dictionary<string, List<SigmaRule>> _byNeedle = new(StringComparer.OrdinalIgnoreCase);
        private Dictionary<char, string[]> _byFirstChar = [];
        private SearchValues<string> _needles = SearchValues.Create([], StringComparison.OrdinalIgnoreCase);

        public void Add(SigmaRule rule, IEnumerable<string> needles)
        {
            foreach (var needle in needles)
            {
                if (!_byNeedle.TryGetValue(needle, out var rules))
                {
                    _byNeedle[needle] = rules = [];
                }
                rules.Add(rule);
            }
        }

        public void Seal()
        {
            _needles = SearchValues.Create([.. _byNeedle.Keys], StringComparison.OrdinalIgnoreCase);
            _byFirstChar = _byNeedle.Keys.GroupBy(n => char.ToLowerInvariant(n[0])).ToDictionary(g => g.Key, g => g.ToArray());
        }

        /// <summary>Adds the rules of every needle <paramref name="text"/> contains, each rule once.</summary>
        public void AddMatches(string text, List<SigmaRule> into, HashSet<SigmaRule> seen)
        {
            var offset = 0;
            while (offset < text.Length)
            {
                var found = text.AsSpan(offset).IndexOfAny(_needles);
                if (found < 0)
                {
                    return;
                }
                var at = offset + found;
                // The search says some needle starts here; find which ones.
                foreach (var needle in _byFirstChar.GetValueOrDefault(char.ToLowerInvariant(text[at]), []))
                {
                    if (text.AsSpan(at).StartsWith(needle, StringComparison.OrdinalIgnoreCase))
                    {
                        foreach (var rule in _byNeedle[needle])
                        {
                            if (seen.Add(rule))
                            {
                                into.Add(rule);
                            }
                        }
                    }
                }
                offset = at + 1;
            }
        }
    }
}
