using System.CommandLine;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Events.Formats;
using Spectre.Console;
using static Hydrant.Cli.Commands.ServerRequest;

namespace Hydrant.Cli.Commands;

/// <summary>
/// <c>hydrant rules check DIR</c>: parse and compile every rule, say why each refused one is
/// refused, and, per logsource, which input formats feed it (so which rules can ever fire);
/// <c>rules list</c> and <c>rules show ID</c> ask the running server.
/// </summary>
internal static class RulesCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Folder of Sigma rules (*.yml, *.yaml; searched recursively)" };
        var json = new Option<bool>("--json") { Description = "One JSON line per rule: path, id, title, status (compiled|refused), reason, logsource, fedBy (the input formats that feed it)" };
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
                    var logsource = (document.Document as SigmaRule)?.Logsource;
                    results.Add(new RuleCheck(path, document.Document?.Id ?? document.Id, document.Document?.Title ?? document.Title, reason is null ? "compiled" : "refused", reason,
                        logsource is null ? null : Describe(logsource),
                        logsource is null ? null : FormatCoverage.FormatsFeeding(logsource.Product, logsource.Service, logsource.Category)));
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
                WriteCoverage(results.Where(r => r.Status == "compiled" && r.Logsource is not null).ToList());
                Console.WriteLine($"{results.Count} rules: {compiled} compiled, {results.Count - compiled} refused ({(results.Count == 0 ? 0 : 100.0 * compiled / results.Count):0.0} % compiled)");
            }
            return compiled == results.Count ? ExitCodes.Success : ExitCodes.BadInput;
        });
        return new Command("rules", "Work with Sigma rules") { check, Lint(), RulesTestCommand.Create(), List(), Show() };
    }

    /// <summary>
    /// <c>hydrant rules lint DIR</c>: what the Sigma conventions flag in each rule (SigmaLinter);
    /// exit 1 when a rule has an error (it does not compile), 0 with warnings only.
    /// </summary>
    private static Command Lint()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Folder of Sigma rules (*.yml, *.yaml; searched recursively)" };
        var json = new Option<bool>("--json") { Description = "One JSON line per finding: path, id, title, severity (error|warning), code, message" };
        var command = new Command("lint", "Report what the Sigma conventions flag in every rule under DIR") { directory, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            var root = result.GetValue(directory)!;
            if (!root.Exists)
            {
                await Console.Error.WriteLineAsync($"hydrant: {root.FullName} does not exist");
                return ExitCodes.BadInput;
            }
            var compiler = new SigmaCompiler(SigmaOptions.Default);
            var findings = new List<RuleFinding>();
            var rules = 0;
            foreach (var file in RuleSet.RuleFiles(root.FullName))
            {
                var path = Path.GetRelativePath(root.FullName, file);
                foreach (var document in compiler.CompilePath(file))
                {
                    rules++;
                    findings.AddRange(SigmaLinter.Lint(document).Select(f =>
                        new RuleFinding(path, document.Document?.Id ?? document.Id, document.Document?.Title ?? document.Title, f.Severity, f.Code, f.Message)));
                }
            }
            if (result.GetValue(json))
            {
                foreach (var finding in findings)
                {
                    Console.WriteLine(JsonSerializer.Serialize(finding, RuleCheckJson.Options));
                }
            }
            else
            {
                foreach (var finding in findings)
                {
                    Console.WriteLine($"{finding.Path}: {finding.Severity} {finding.Code}: {finding.Message}");
                }
                var flagged = findings.Select(f => (f.Path, f.Id)).Distinct().Count();
                Console.WriteLine($"{rules} rules: {findings.Count(f => f.Severity == LintFinding.Error)} errors, {findings.Count(f => f.Severity == LintFinding.Warning)} warnings, in {flagged} rules");
            }
            return findings.Any(f => f.Severity == LintFinding.Error) ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }

    private sealed record RuleFinding(string Path, string? Id, string? Title, string Severity, string Code, string Message);

    /// <summary><c>hydrant rules list</c>: the server's loaded rules and the refused ones.</summary>
    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "The server's answer as JSON" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("list", "List the rules the running server has loaded, and those it refused") { json, url, key };
        command.SetAction((result, cancellationToken) => ServerRequest.SendAsync(result, url, key, client => client.GetAsync("v1/rules", cancellationToken), async answer =>
        {
            if (result.GetValue(json))
            {
                await Console.Out.WriteLineAsync(answer.GetRawText());
                return;
            }
            TextTable.Write(["id", "kind", "level", "title", "attack", "source"], answer.GetProperty("rules").EnumerateArray().Select(r => (IReadOnlyList<string>)
            [
                Text(r, "id"), Text(r, "kind"), Text(r, "level"), Text(r, "title"),
                string.Join(' ', r.GetProperty("attack").GetProperty("techniques").EnumerateArray().Select(t => t.GetString())), Text(r, "source"),
            ]));
            foreach (var refused in answer.GetProperty("refused").EnumerateArray())
            {
                await Console.Error.WriteLineAsync($"refused {Text(refused, "source")}: {Text(refused, "reason")}");
            }
        }, cancellationToken));
        return command;
    }

    /// <summary><c>hydrant rules show ID</c>: one rule, what it detects and its YAML.</summary>
    private static Command Show()
    {
        var id = new Argument<string>("ID") { Description = "The rule's id" };
        var json = new Option<bool>("--json") { Description = "The server's answer as JSON" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("show", "Show one loaded rule: what it detects, its ATT&CK techniques, references and YAML") { id, json, url, key };
        command.SetAction((result, cancellationToken) => ServerRequest.SendAsync(result, url, key, client => client.GetAsync("v1/rules/" + Uri.EscapeDataString(result.GetValue(id)!), cancellationToken), async rule =>
        {
            if (result.GetValue(json))
            {
                await Console.Out.WriteLineAsync(rule.GetRawText());
                return;
            }
            var attack = rule.GetProperty("attack");
            var lines = new List<string>
            {
                $"{Text(rule, "title")} ({Text(rule, "kind")}, {Text(rule, "level")}, {Text(rule, "status")})",
                $"id:              {Text(rule, "id")}",
                $"source:          {Text(rule, "source")}",
                $"description:     {Text(rule, "description").ReplaceLineEndings(" ").Trim()}",
                $"ATT&CK:          {string.Join(", ", attack.GetProperty("techniques").EnumerateArray().Concat(attack.GetProperty("tactics").EnumerateArray()).Select(t => t.GetString()))}",
                $"references:      {string.Join(", ", rule.GetProperty("references").EnumerateArray().Select(t => t.GetString()))}",
                $"false positives: {string.Join("; ", rule.GetProperty("falsepositives").EnumerateArray().Select(t => t.GetString()))}",
                string.Empty,
                Text(rule, "yaml"),
            };
            await Console.Out.WriteLineAsync(string.Join('\n', lines));
        }, cancellationToken));
        return command;
    }

    /// <summary>Per logsource of the compiled rules: how many, and which formats feed it; then how many rules nothing feeds.</summary>
    private static void WriteCoverage(List<RuleCheck> rules)
    {
        if (rules.Count == 0)
        {
            return;
        }
        var byLogsource = rules.GroupBy(r => r.Logsource!, StringComparer.OrdinalIgnoreCase)
            .Select(g => (Logsource: g.Key, Rules: g.Count(), FedBy: g.First().FedBy!))
            .OrderBy(l => l.FedBy.Count == 0 ? 0 : 1).ThenByDescending(l => l.Rules).ThenBy(l => l.Logsource, StringComparer.Ordinal)
            .ToList();
        TextTable.Write(["logsource", "rules", "fed by"], byLogsource.Select(l => (IReadOnlyList<string>)
            [l.Logsource, l.Rules.ToString(System.Globalization.CultureInfo.InvariantCulture), l.FedBy.Count == 0 ? "nothing (only JSON events that name it)" : string.Join(", ", l.FedBy)]));
        var unfed = byLogsource.Where(l => l.FedBy.Count == 0).ToList();
        Console.WriteLine($"{unfed.Sum(l => l.Rules)} of {rules.Count} compiled rules, in {unfed.Count} of {byLogsource.Count} logsources, have a logsource no input format feeds: they fire only on JSON events that name it");
    }

    /// <summary>A logsource as <c>product/service/category</c>, <c>*</c> where the rule names none.</summary>
    private static string Describe(Logsource l) => $"{l.Product ?? "*"}/{l.Service ?? "*"}/{l.Category ?? "*"}";

    private sealed record RuleCheck(string Path, string? Id, string? Title, string Status, string? Reason, string? Logsource, IReadOnlyList<string>? FedBy);

    private static class RuleCheckJson
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };
    }
}
