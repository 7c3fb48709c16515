using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Hunt;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary><c>hydrant hunt --rules DIR FILE...</c>: Sigma rules over log files, offline, no server.</summary>
internal static class HuntCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var rules = new Option<DirectoryInfo>("--rules") { Description = "Folder of Sigma rules (searched recursively)", Required = true };
        var files = new Argument<FileInfo[]>("FILE") { Description = "Log files to hunt through", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format") { Description = "Input format: json (default), cloudtrail, zeek, syslog, web, windows", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong([.. ParseOptions.Names]);
        var year = new Option<int?>("--year") { Description = "Year for syslog lines that carry none (RFC 3164)" };
        var json = new Option<bool>("--json") { Description = "One alert JSON per line on stdout (summary on stderr)" };
        var command = new Command("hunt", "Run Sigma rules over files, offline: one alert per matching event") { rules, files, format, year, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            var rulesDir = result.GetValue(rules)!;
            var inputs = result.GetValue(files)!;
            var missing = rulesDir.Exists ? inputs.FirstOrDefault(f => !f.Exists)?.FullName : rulesDir.FullName;
            if (missing is not null || !ParseOptions.TryParseFormat(result.GetValue(format), out var inputFormat))
            {
                await Console.Error.WriteLineAsync($"hydrant: {missing} does not exist");
                return ExitCodes.BadInput;
            }
            var ruleSet = RuleSet.Load(rulesDir.FullName, new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: false);
            foreach (var refusal in ruleSet.Refusals)
            {
                await Console.Error.WriteLineAsync($"hydrant: rule refused: {refusal.Source}: {refusal.Reason}");
            }
            var options = new ParseOptions { Format = inputFormat, SyslogYear = result.GetValue(year) };
            var parser = new EventParser(EventLimits.Default, TimeProvider.System);
            var hunter = new Hunter(ruleSet, parser, options);
            var asJson = result.GetValue(json);
            var stdout = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 1 << 16) { AutoFlush = false };
            var watch = Stopwatch.StartNew();
            HuntSummary summary;
            try
            {
                summary = await hunter.RunAsync(inputs.Select(f => f.FullName), async alert =>
                {
                    if (asJson)
                    {
                        await stdout.WriteLineAsync(JsonSerializer.Serialize(alert, Json));
                    }
                    else
                    {
                        var e = alert.Events[0];
                        await stdout.WriteLineAsync($"{alert.FirstSeen}  {alert.Level,-13} {alert.Title}  [{e.EventType} from {e.SourceIP}, id {e.Id}]");
                    }
                }, line => Console.Error.WriteLine($"hydrant: rejected {line}"), cancellationToken);
            }
            catch (InvalidDataException e)
            {
                await stdout.FlushAsync(cancellationToken);
                await Console.Error.WriteLineAsync($"hydrant: {e.Message}");
                return ExitCodes.BadInput;
            }
            await stdout.FlushAsync(cancellationToken);

            var rate = summary.Events / Math.Max(watch.Elapsed.TotalSeconds, 0.001);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(asJson ? Console.Error : Console.Out) });
            var table = new Table().AddColumns("rule", "alerts");
            foreach (var (rule, count) in summary.ByRule.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            {
                table.AddRow(Markup.Escape(rule), count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            if (summary.ByRule.Count > 0)
            {
                console.Write(table);
            }
            var levels = string.Join(", ", summary.ByLevel.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));
            var summaryOut = asJson ? Console.Error : Console.Out;
            await summaryOut.WriteLineAsync($"{summary.Events} events ({summary.Rejected} rejected) from {inputs.Length} files, {ruleSet.Rules.Count} rules, {summary.Alerts} alerts{(levels.Length > 0 ? " (" + levels + ")" : string.Empty)} in {watch.Elapsed.TotalSeconds:0.00} s ({rate:0} events/s)");
            return ExitCodes.Success;
        });
        return command;
    }
}
