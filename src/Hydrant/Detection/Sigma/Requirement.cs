namespace Hydrant.Detection.Sigma;

/// <summary>
/// A necessary condition of a rule: it can match only events whose <see cref="Field"/> equals
/// (ignoring case) one of <see cref="Values"/>. Derived soundly from the detection, so an index
/// built on it only ever skips rules that could not match.
/// </summary>
public sealed record Requirement(string Field, IReadOnlySet<string> Values)
{
    /// <summary>a OR b: only a requirement both share the field of, with the values of both.</summary>
    public static Requirement? Either(Requirement? a, Requirement? b) =>
        a is not null && b is not null && a.Field == b.Field
            ? new Requirement(a.Field, new HashSet<string>(a.Values.Concat(b.Values), StringComparer.OrdinalIgnoreCase))
            : null;

    /// <summary>a AND b: either one is necessary; the narrower is the better index.</summary>
    public static Requirement? Both(Requirement? a, Requirement? b) =>
        a is null ? b : b is null ? a : a.Values.Count <= b.Values.Count ? a : b;
}
