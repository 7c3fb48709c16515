namespace Hydrant.Analytics;

/// <summary>
/// The first gate for ad-hoc SQL, the same for every analytics engine: one statement, and it must
/// be a SELECT or WITH query. Strings, quoted names and comments are skipped so a ';' inside them
/// is not taken for a second statement. Dialects differ on escapes, so this gate gives clear
/// errors, and each engine still enforces read-only itself (a transaction that is never kept).
/// </summary>
public static class ReadOnlySql
{
    /// <summary>Null when the text is one SELECT or WITH query; otherwise what is wrong with it.</summary>
    public static string? Check(string sql)
    {
        string? firstWord = null;
        var statementEnd = -1;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '-' && next == '-')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '/' && next == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    return $"unterminated comment starting at offset {i}";
                }
                i = end + 2;
            }
            else if (statementEnd >= 0)
            {
                return $"only one statement is allowed; more follows the ';' at offset {statementEnd}";
            }
            else if (c is '\'' or '"')
            {
                var end = QuotedEnd(sql, i, c);
                if (end < 0)
                {
                    return $"unterminated {(c == '\'' ? "string" : "quoted name")} starting at offset {i}";
                }
                i = end;
            }
            else if (c == '$' && DollarTag(sql, i) is { } tag)
            {
                var end = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                if (end < 0)
                {
                    return $"unterminated {tag} string starting at offset {i}";
                }
                i = end + tag.Length;
            }
            else if (c == ';')
            {
                statementEnd = i++;
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] == '_'))
                {
                    i++;
                }
                firstWord ??= sql[start..i];
            }
            else
            {
                if (firstWord is null && c != '(')
                {
                    return $"a query must start with SELECT or WITH, not '{c}'";
                }
                i++;
            }
        }
        if (firstWord is null)
        {
            return "the query is empty";
        }
        return firstWord.Equals("select", StringComparison.OrdinalIgnoreCase) || firstWord.Equals("with", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"only read-only queries (SELECT or WITH) are allowed, not {firstWord.ToUpperInvariant()}";
    }

    /// <summary>The index just past a quoted run that starts at <paramref name="start"/>; a doubled quote is one quote. -1 if it never ends.</summary>
    private static int QuotedEnd(string sql, int start, char quote)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return -1;
    }

    /// <summary>The dollar-quote tag ($$ or $name$) at <paramref name="start"/>, or null when '$' starts something else (a parameter).</summary>
    private static string? DollarTag(string sql, int start)
    {
        var i = start + 1;
        while (i < sql.Length && (char.IsLetter(sql[i]) || sql[i] == '_'))
        {
            i++;
        }
        return i < sql.Length && sql[i] == '$' ? sql[start..(i + 1)] : null;
    }
}
