using System.Text.RegularExpressions;

namespace Hydrant.Detection.Sigma;

/// <summary>
/// The condition grammar of the Sigma specification, by recursive descent. Precedence from least
/// to most binding: or, and, not, "x of", parentheses. "them" means every search identifier not
/// starting with an underscore; a pattern matches identifiers with * wildcards.
/// </summary>
internal sealed partial class SigmaCondition
{
    [GeneratedRegex(@"\s*(?:(?<token>\(|\)|\||[^\s()|]+))", RegexOptions.ExplicitCapture)]
    private static partial Regex Token();

    private readonly List<string> _tokens;
    private readonly IReadOnlyDictionary<string, SigmaCompiler.Search> _identifiers;
    private int _position;
    private int _depth;

    private SigmaCondition(List<string> tokens, IReadOnlyDictionary<string, SigmaCompiler.Search> identifiers)
    {
        _tokens = tokens;
        _identifiers = identifiers;
    }

    public static SigmaCompiler.Search Compile(string condition, IReadOnlyDictionary<string, SigmaCompiler.Search> identifiers)
    {
        var tokens = Token().Matches(condition).Select(m => m.Groups["token"].Value).ToList();
        if (tokens.Contains("|"))
        {
            throw new SigmaException("aggregation expressions ('| count() ...') are deprecated; use a correlation rule");
        }
        if (tokens.Count == 0)
        {
            throw new SigmaException("the condition is empty");
        }
        if (tokens.Count > RuleLimits.MaxConditionTokens)
        {
            throw new SigmaException($"the condition has {tokens.Count} tokens, over the limit of {RuleLimits.MaxConditionTokens}");
        }
        var parser = new SigmaCondition(tokens, identifiers);
        var expression = parser.Or();
        if (parser._position < tokens.Count)
        {
            throw new SigmaException($"unexpected '{tokens[parser._position]}'");
        }
        return expression;
    }

    private SigmaCompiler.Search Or()
    {
        var left = And();
        while (Accept("or"))
        {
            var a = left;
            var b = And();
            left = new(e => a.Matches(e) || b.Matches(e), Requirement.Either(a.Requirement, b.Requirement));
        }
        return left;
    }

    private SigmaCompiler.Search And()
    {
        var left = Not();
        while (Accept("and"))
        {
            var a = left;
            var b = Not();
            left = new(e => a.Matches(e) && b.Matches(e), Requirement.Both(a.Requirement, b.Requirement));
        }
        return left;
    }

    private SigmaCompiler.Search Not()
    {
        if (Accept("not"))
        {
            Deeper();
            var inner = Not();
            _depth--;
            return new(e => !inner.Matches(e), null);
        }
        return Primary();
    }

    private SigmaCompiler.Search Primary()
    {
        var token = Next("an identifier, 'not', 'x of' or '('");
        if (token == "(")
        {
            Deeper();
            var inner = Or();
            if (!Accept(")"))
            {
                throw new SigmaException("missing ')'");
            }
            _depth--;
            return inner;
        }
        if (token is "1" or "all" or "any" && Peek() is "of")
        {
            _position++;
            var pattern = Next("an identifier pattern or 'them'");
            var matched = pattern == "them"
                ? _identifiers.Where(p => !p.Key.StartsWith('_')).Select(p => p.Value).ToList()
                : _identifiers.Where(p => Matches(pattern, p.Key)).Select(p => p.Value).ToList();
            if (matched.Count == 0)
            {
                throw new SigmaException($"'{token} of {pattern}' matches no search identifier");
            }
            return token == "all"
                ? new(e => matched.TrueForAll(m => m.Matches(e)), matched.Select(m => m.Requirement).Aggregate(Requirement.Both))
                : new(e => matched.Exists(m => m.Matches(e)), matched.Select(m => m.Requirement).Aggregate(Requirement.Either));
        }
        if (token is "and" or "or" or ")" or "of")
        {
            throw new SigmaException($"unexpected '{token}'");
        }
        return _identifiers.TryGetValue(token, out var identifier)
            ? identifier
            : throw new SigmaException($"'{token}' is not a search identifier of this rule");
    }

    private static bool Matches(string pattern, string name) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.NonBacktracking);

    /// <summary>Parentheses and "not" nest the parser (and the compiled predicate) one level deeper each: bounded, so no condition can overflow the stack.</summary>
    private void Deeper()
    {
        if (++_depth > RuleLimits.MaxConditionDepth)
        {
            throw new SigmaException($"the condition nests parentheses and 'not' more than {RuleLimits.MaxConditionDepth} deep");
        }
    }

    private bool Accept(string keyword)
    {
        if (Peek() == keyword)
        {
            _position++;
            return true;
        }
        return false;
    }

    private string? Peek() => _position < _tokens.Count ? _tokens[_position] : null;

    private string Next(string expected) =>
        _position < _tokens.Count ? _tokens[_position++] : throw new SigmaException($"the condition ends where {expected} was expected");
}
