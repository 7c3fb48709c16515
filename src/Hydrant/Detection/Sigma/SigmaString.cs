using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace Hydrant.Detection.Sigma;

/// <summary>
/// A Sigma string value: literal text with the wildcards <c>*</c> and <c>?</c>, where a backslash
/// escapes a wildcard or a backslash (sigma-rules-specification, "Escape Character"). Compiled
/// once into the cheapest matcher that does the job: equality, prefix, suffix, substring, or a
/// regex on the non-backtracking engine.
/// </summary>
internal sealed class SigmaString
{
    private enum Part
    {
        Text,
        Star,
        Question,
    }

    private readonly List<(Part Kind, string Text)> _parts;

    private SigmaString(List<(Part Kind, string Text)> parts) => _parts = parts;

    public static SigmaString Parse(string value)
    {
        var parts = new List<(Part, string)>();
        var text = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length && value[i + 1] is '*' or '?' or '\\')
            {
                // "\*" and "\?" are literal wildcards; "\\" is one backslash.
                text.Append(value[++i]);
            }
            else if (c is '*' or '?')
            {
                Flush(text, parts);
                parts.Add((c == '*' ? Part.Star : Part.Question, string.Empty));
            }
            else
            {
                text.Append(c);
            }
        }
        Flush(text, parts);
        return new SigmaString(parts);
    }

    public static SigmaString Literal(string value) => new(value.Length == 0 ? [] : [(Part.Text, value)]);

    public SigmaString Contains() => new([(Part.Star, string.Empty), .. _parts, (Part.Star, string.Empty)]);

    public SigmaString StartsWith() => new([.. _parts, (Part.Star, string.Empty)]);

    public SigmaString EndsWith() => new([(Part.Star, string.Empty), .. _parts]);

    /// <summary>The literal text, when the value has no wildcards.</summary>
    public string? PlainText => _parts.All(p => p.Kind == Part.Text) ? string.Concat(_parts.Select(p => p.Text)) : null;

    /// <summary>The longest run of literal text (any match contains it), or null when there is none.</summary>
    public string? LongestLiteral => Simplify().Where(p => p.Kind == Part.Text).Select(p => p.Text).MaxBy(t => t.Length);

    /// <summary>The text, when the pattern is only "contains it" (<c>*text*</c>, the text not empty), else null.</summary>
    public string? ContainedText => Simplify() is [(Part.Star, _), (Part.Text, var text), (Part.Star, _)] && text.Length > 0 ? text : null;

    public Func<string, bool> Compile(bool cased)
    {
        var comparison = cased ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var parts = Simplify();
        switch (parts)
        {
            case []:
                return s => s.Length == 0;
            case [(Part.Text, var text)]:
                return s => s.Equals(text, comparison);
            case [(Part.Star, _)]:
                return _ => true;
            case [(Part.Star, _), (Part.Text, var text), (Part.Star, _)]:
                // A searcher made once: under invariant globalization string.Contains ignoring
                // case takes a slow path for every string, SearchValues a vectorised one.
                var needle = SearchValues.Create([text], comparison);
                return s => s.AsSpan().IndexOfAny(needle) >= 0;
            case [(Part.Text, var text), (Part.Star, _)]:
                return s => s.StartsWith(text, comparison);
            case [(Part.Star, _), (Part.Text, var text)]:
                return s => s.EndsWith(text, comparison);
        }
        var pattern = new StringBuilder("^");
        foreach (var (kind, text) in parts)
        {
            pattern.Append(kind switch
            {
                Part.Star => ".*",
                Part.Question => ".",
                _ => Regex.Escape(text),
            });
        }
        pattern.Append('$');
        var options = RegexOptions.NonBacktracking | RegexOptions.Singleline | RegexOptions.CultureInvariant | (cased ? RegexOptions.None : RegexOptions.IgnoreCase);
        // Built on first use: the pattern is made here from escaped text, so it cannot be refused,
        // and most rules of a large set never meet an event of their logsource. Two threads may
        // both build it once; either one is kept.
        var source = pattern.ToString();
        Regex? regex = null;
        return s => (regex ??= new Regex(source, options)).IsMatch(s);
    }

    public override string ToString() => string.Concat(_parts.Select(p => p.Kind switch
    {
        Part.Star => "*",
        Part.Question => "?",
        _ => p.Text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal).Replace("?", "\\?", StringComparison.Ordinal),
    }));

    /// <summary>Adjacent texts joined, runs of stars folded into one.</summary>
    private List<(Part Kind, string Text)> Simplify()
    {
        var result = new List<(Part Kind, string Text)>();
        foreach (var part in _parts)
        {
            if (result.Count > 0 && result[^1].Kind == part.Kind && part.Kind != Part.Question)
            {
                result[^1] = (part.Kind, result[^1].Text + part.Text);
                continue;
            }
            result.Add(part);
        }
        return result;
    }

    private static void Flush(StringBuilder text, List<(Part, string)> parts)
    {
        if (text.Length > 0)
        {
            parts.Add((Part.Text, text.ToString()));
            text.Clear();
        }
    }
}
