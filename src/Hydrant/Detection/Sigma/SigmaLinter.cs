using System.Text.RegularExpressions;
using Hydrant.Events.Formats;
using YamlDotNet.RepresentationModel;

namespace Hydrant.Detection.Sigma;

/// <summary>One thing a rule's author should look at: an <c>error</c> (the rule cannot be loaded as written) or a <c>warning</c> (a convention it breaks).</summary>
public sealed record LintFinding(string Severity, string Code, string Message)
{
    public const string Error = "error";
    public const string Warning = "warning";
}

/// <summary>
/// What the Sigma conventions flag in a rule (SigmaHQ's rule convention and the tags appendix in
/// ../shared/corpus/sigma/specification): a rule that does not compile (an unknown modifier, a bad
/// condition), a missing or malformed id, the required metadata a SigmaHQ rule carries, tags
/// outside the appendix's namespaces (ATT&amp;CK tactics and ids, car, cve, d3fend, detection, stp,
/// tlp), status values, dates (a level the compiler refuses), and a logsource no input format feeds.
/// </summary>
public static partial class SigmaLinter
{
    private static readonly string[] Statuses = ["stable", "test", "experimental", "deprecated", "unsupported"];
    // The appendix's tactics, and ATT&CK v18's stealth and defense-impairment, which SigmaHQ's rules
    // now use where they said defense-evasion.
    private static readonly string[] Tactics = ["reconnaissance", "resource-development", "initial-access", "execution", "persistence", "privilege-escalation", "defense-evasion", "stealth", "defense-impairment", "credential-access", "discovery", "lateral-movement", "collection", "exfiltration", "command-and-control", "impact"];
    private static readonly string[] RequiredForRules = ["status", "description", "author", "date", "tags", "falsepositives", "level"];

    [GeneratedRegex(@"^attack\.(?:t\d{4}(?:\.\d{3})?|g\d{4}|s\d{4}|ds\d{4}|m\d{4}|a\d{4})$")]
    private static partial Regex AttackId();

    [GeneratedRegex(@"^(?:car\.\d{4}-\d{2}-\d{3}|cve\.\d{4}-\d{4,}|d3fend\.(?:d3f?-[A-Za-z0-9-]+|model|harden|detect|isolate|deceive|evict)|detection\.(?:dfir|emerging-threats|threat-hunting)|stp\.[1-5][auk]?|tlp\.(?:red|amber|amber-strict|green|clear))$")]
    private static partial Regex OtherTag();

    [GeneratedRegex(@"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    private static partial Regex Uuid();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex Date();

    /// <summary>The findings for one compiled document (a refused one: why it was refused).</summary>
    public static IReadOnlyList<LintFinding> Lint(CompiledDocument compiled)
    {
        if (compiled.Document is not { } document)
        {
            return [new LintFinding(LintFinding.Error, "refused", compiled.Error?.Message ?? "the rule does not compile")];
        }
        var findings = new List<LintFinding>();
        var yaml = Parse(document.About.Yaml);
        string? Text(string key) => yaml?.Children.TryGetValue(new YamlScalarNode(key), out var node) == true && node is YamlScalarNode s ? s.Value : null;
        bool Has(string key) => yaml?.Children.ContainsKey(new YamlScalarNode(key)) == true;

        if (Text("id") is not { } id)
        {
            findings.Add(new LintFinding(LintFinding.Warning, "missing-id", "no id: alerts and references name the rule by its id (a UUID)"));
        }
        else if (!Uuid().IsMatch(id))
        {
            findings.Add(new LintFinding(LintFinding.Warning, "id-not-uuid", $"id '{id}' is not a lower-case UUID"));
        }
        if (document is SigmaRule rule)
        {
            foreach (var key in RequiredForRules.Where(k => !Has(k)))
            {
                findings.Add(new LintFinding(LintFinding.Warning, "missing-" + key, $"no {key}: SigmaHQ's rule convention requires it"));
            }
            if (Text("status") is { } status && !Statuses.Contains(status, StringComparer.Ordinal))
            {
                findings.Add(new LintFinding(LintFinding.Warning, "status", $"status '{status}' is not one of {string.Join(", ", Statuses)}"));
            }
            foreach (var key in new[] { "date", "modified" })
            {
                if (Text(key) is { } date && !Date().IsMatch(date))
                {
                    findings.Add(new LintFinding(LintFinding.Warning, key, $"{key} '{date}' is not yyyy-mm-dd"));
                }
            }
            foreach (var tag in rule.Tags)
            {
                if (TagProblem(tag) is { } problem)
                {
                    findings.Add(new LintFinding(LintFinding.Warning, "tag", problem));
                }
            }
            var l = rule.Logsource;
            if (FormatCoverage.FormatsFeeding(l.Product, l.Service, l.Category).Count == 0)
            {
                findings.Add(new LintFinding(LintFinding.Warning, "logsource-not-fed",
                    $"no input format gives events of logsource {l.Product ?? "*"}/{l.Service ?? "*"}/{l.Category ?? "*"}: the rule fires only on JSON events that name it"));
            }
        }
        return findings;
    }

    /// <summary>Why a tag is outside the tags appendix, or null when it is in it.</summary>
    public static string? TagProblem(string tag)
    {
        if (tag.StartsWith("attack.", StringComparison.Ordinal))
        {
            return AttackId().IsMatch(tag) || Tactics.Contains(tag["attack.".Length..], StringComparer.Ordinal)
                ? null
                : $"tag '{tag}' is not an ATT&CK tactic or id (attack.t1234, attack.t1234.001, attack.g0001, attack.s0001, ...), lower case";
        }
        return OtherTag().IsMatch(tag) ? null : $"tag '{tag}' is in none of the namespaces of the tags appendix (attack, car, cve, d3fend, detection, stp, tlp)";
    }

    private static YamlMappingNode? Parse(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.FirstOrDefault()?.RootNode as YamlMappingNode;
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return null; // it compiled, so the compiler read it; a document it read is not what this needs to refuse
        }
    }
}
