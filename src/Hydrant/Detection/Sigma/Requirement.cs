namespace Hydrant.Detection.Sigma;

/// <summary>
/// A necessary condition of a rule: it can match only events whose <see cref="Field"/> equals
/// (ignoring case) one of <see cref="Values"/>, or, for a substring requirement, contains one of
/// them. Derived soundly from the detection, so an index built on it only ever skips rules that
/// could not match.
/// </summary>
public sealed record Requirement(string Field, IReadOnlySet<string> Values, bool IsSubstring = false)
{
    /// <summary>The field of keyword requirements: a substring of any string value of the event.</summary>
    public const string AnyString = "";

    /// <summary>
    /// a OR b: only a requirement both share the field of, with the values of both. Equality
    /// implies containment, so an equality joined with a substring requirement becomes one.
    /// </summary>
    public static Requirement? Either(Requirement? a, Requirement? b)
    {
        if (a is null || b is null || a.Field != b.Field)
        {
            return null;
        }
        var substring = a.IsSubstring || b.IsSubstring;
        var values = a.Values.Concat(b.Values).ToList();
        return substring && values.Any(v => v.Length < MinimumSubstring)
            ? null
            : new Requirement(a.Field, new HashSet<string>(values, StringComparer.OrdinalIgnoreCase), substring);
    }

    /// <summary>Substrings shorter than this occur in too many values to be worth indexing.</summary>
    public const int MinimumSubstring = 3;

    /// <summary>
    /// a AND b: either one is necessary. An equality is usually the better index, but not against
    /// substrings of four or more characters, which are rarer than a common value such as an HTTP
    /// method; then fewer values.
    /// </summary>
    public static Requirement? Both(Requirement? a, Requirement? b)
    {
        if (a is null || b is null)
        {
            return a ?? b;
        }
        if (a.IsSubstring != b.IsSubstring)
        {
            var (substring, equality) = a.IsSubstring ? (a, b) : (b, a);
            return substring.Values.All(v => v.Length > MinimumSubstring) ? substring : equality;
        }
        return a.Values.Count <= b.Values.Count ? a : b;
    }
}
