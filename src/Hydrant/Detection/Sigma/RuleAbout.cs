namespace Hydrant.Detection.Sigma;

/// <summary>
/// What a rule says about itself for the people who answer its alerts (the Sigma metadata
/// fields), and the YAML of its document as written.
/// </summary>
public sealed record RuleAbout(
    string? Description,
    string? Author,
    string? Date,
    IReadOnlyList<string> References,
    IReadOnlyList<string> FalsePositives,
    IReadOnlyList<string> Tags,
    string Yaml)
{
    public static RuleAbout None { get; } = new(null, null, null, [], [], [], string.Empty);

    /// <summary>The ATT&amp;CK technique ids of the tags (<c>attack.t1110.001</c> is T1110.001), in their order.</summary>
    public static IReadOnlyList<string> Techniques(IEnumerable<string> tags) =>
        [.. tags.Where(IsTechnique).Select(t => t["attack.".Length..].ToUpperInvariant()).Distinct(StringComparer.Ordinal)];

    /// <summary>The ATT&amp;CK tactics of the tags (<c>attack.credential-access</c>), by name, in their order.</summary>
    public static IReadOnlyList<string> Tactics(IEnumerable<string> tags) =>
        [.. tags.Where(t => t.StartsWith("attack.", StringComparison.OrdinalIgnoreCase) && !IsTechnique(t) && !IsGroupOrSoftware(t))
            .Select(t => t["attack.".Length..].ToLowerInvariant()).Distinct(StringComparer.Ordinal)];

    private static bool IsTechnique(string tag) =>
        tag.Length > "attack.t".Length && tag.StartsWith("attack.t", StringComparison.OrdinalIgnoreCase) && char.IsAsciiDigit(tag["attack.t".Length]);

    // attack.g0016 (a group) and attack.s0002 (software) name who or what, not how.
    private static bool IsGroupOrSoftware(string tag) =>
        tag.Length > "attack.g".Length && (tag[7] is 'g' or 'G' or 's' or 'S') && char.IsAsciiDigit(tag[8]);
}
