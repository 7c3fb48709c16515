using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary>
/// Rows as a person or a script reads them: a table on a terminal; tab-separated lines, a header
/// first, when standard output is a pipe or a file, so ids and times are never wrapped or cut.
/// </summary>
internal static class TextTable
{
    /// <summary>Writes to standard output, or to standard error when <paramref name="toError"/> (a summary beside JSON lines).</summary>
    public static void Write(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows, bool toError = false)
    {
        var output = toError ? Console.Error : Console.Out;
        if (toError ? Console.IsErrorRedirected : Console.IsOutputRedirected)
        {
            output.WriteLine(string.Join('\t', columns));
            foreach (var row in rows)
            {
                // A tab or line break inside a value would split its row.
                output.WriteLine(string.Join('\t', row.Select(v => v.ReplaceLineEndings(" ").Replace('\t', ' '))));
            }
            return;
        }
        var table = new Table().AddColumns([.. columns]);
        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(Markup.Escape)]);
        }
        (toError ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console).Write(table);
    }
}
