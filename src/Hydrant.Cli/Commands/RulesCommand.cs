using System.CommandLine;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary><c>hydrant rules check DIR</c>: parse and compile every rule, and say why each refused one is refused.</summary>
internal static class RulesCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Folder of Sigma rules (*.yml, *.yaml; searched recursively)" };
        var json = new Option<bool>("--json") { Description = "One JSON line per rule: path, id, title, status (compiled|refused), reason" };
        var check = new Command("check", "Parse and compile every rule under DIR") { directory, json };
        check.SetAction(async (result, cancellationToken) =>
        {
            var root = result.GetValue(directory)!;
            if (!root.Exists)
            {
                await Console.Error.WriteLineAsync($"hydrant: {root.FullName} does not exist");
                return ExitCodes.BadInput;
            }
            var compiler = new SigmaCompiler(SigmaOptions.Default);
            var files = new List<(string Path, IReadOnlyList<CompiledDocument> Documents)>();
            // The same files serve --rules loads, so the check speaks for what would run.
            foreach (var file in RuleSet.RuleFiles(root.FullName))
            {
                files.Add((file, compiler.CompilePath(file)));
            }
            // Filters and correlations must also name rules that are loaded: resolve them as serve would.
            var ruleSet = new RuleSet(files.SelectMany(f => f.Documents.Where(d => d.Document is not null).Select(d => new LoadedDocument(d.Document!, f.Path))), []);
            var results = new List<RuleCheck>();
            foreach (var (file, documents) in files)
            {
                var path = Path.GetRelativePath(root.FullName, file);
                foreach (var document in documents)
                {
                    var reason = document.Error?.Message
                        ?? ruleSet.Refusals.FirstOrDefault(r => r.Source == file && r.Id == document.Document!.Id)?.Reason;
                    results.Add(new RuleCheck(path, document.Document?.Id ?? document.Id, document.Document?.Title ?? document.Title, reason is null ? "compiled" : "refused", reason));
                }
            }

            var compiled = results.Count(r => r.Status == "compiled");
            if (result.GetValue(json))
            {
                foreach (var r in results)
                {
                    Console.WriteLine(JsonSerializer.Serialize(r, RuleCheckJson.Options));
                }
            }
            else
            {
                foreach (var r in results.Where(r => r.Status == "refused"))
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]refused[/] {r.Path}: {r.Reason}");
                }
                Console.WriteLine($"{results.Count} rules: {compiled} compiled, {results.Count - compiled} refused ({(results.Count == 0 ? 0 : 100.0 * compiled / results.Count):0.0} % compiled)");
            }
            return compiled == results.Count ? ExitCodes.Success : ExitCodes.BadInput;
        });
        return new Command("rules", "Work with Sigma rules") { check };
    }

    private sealed record RuleCheck(string Path, string? Id, string? Title, string Status, string? Reason);

    private static class RuleCheckJson
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };
    }
}
