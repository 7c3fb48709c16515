using System.Collections.Immutable;

namespace Hydrant.Detection.Sigma;

/// <summary>Sigma's levels (sigma-rules-specification, "level"), lowest first: what rules, alert filters and intel lists may name.</summary>
public static class SigmaLevels
{
    public static ImmutableArray<string> All { get; } = ["informational", "low", "medium", "high", "critical"];

    /// <summary>"informational, low, medium, high, critical", for messages.</summary>
    public static string Listed { get; } = string.Join(", ", All);

    /// <summary>Where the level stands, from 0 (informational) to 4 (critical); -1 for a name that is no level.</summary>
    public static int Rank(string level) => All.IndexOf(level, StringComparer.Ordinal);

    public static bool IsLevel(string level) => Rank(level) >= 0;
}
