using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Hunt;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary>
/// <c>hydrant hunt [--rules DIR] FILE...</c>: Sigma rules (the built-in pack without --rules) over
/// log files, offline, no server. Each alert's events name the file and record they came from; the
/// summary lists the top rules and the files with the most alerts, like Hayabusa's. A progress bar
/// over the files runs on standard error when that is a terminal; the alerts then print above it.
/// </summary>
internal static class HuntCommand
{
    private const int TopRules = 15;
    private const int TopFiles = 10;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var rules = new Option<DirectoryInfo>("--rules") { Description = "Folder of Sigma rules (searched recursively); the built-in pack when not given" };
        var files = new Argument<FileInfo[]>("FILE") { Description = "Log files to hunt through; EVTX files are known by their signature", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format") { Description = "Input format: json (default), cloudtrail, zeek, syslog, web, windows, evtx", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong([.. ParseOptions.Names]);
        var year = new Option<int?>("--year") { Description = "Year for syslog lines that carry none (RFC 3164)" };
        var json = new Option<bool>("--json") { Description = "One alert JSON per line on stdout (summary on stderr)" };
        var command = new Command("hunt", "Run Sigma rules over files, offline: one alert per matching event") { rules, files, format, year, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            var rulesDir = result.GetValue(rules);
            var inputs = result.GetValue(files)!;
            var missing = rulesDir is { Exists: false } ? rulesDir.FullName : inputs.FirstOrDefault(f => !f.Exists)?.FullName;
            if (missing is not null || !ParseOptions.TryParseFormat(result.GetValue(format), out var inputFormat))
            {
                await Console.Error.WriteLineAsync($"hydrant: {missing} does not exist");
                return ExitCodes.BadInput;
            }
            var ruleSet = RuleSet.Load(rulesDir?.FullName, new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: rulesDir is null);
            foreach (var refusal in ruleSet.Refusals)
            {
                await Console.Error.WriteLineAsync($"hydrant: rule refused: {refusal.Source}: {refusal.Reason}");
            }
            // Events exported from Hydrant hold what was known at ingest: hunted as they are.
            var options = new ParseOptions { Format = inputFormat, SyslogYear = result.GetValue(year), KeepEnrichment = true };
            var parser = new EventParser(EventLimits.Default, TimeProvider.System);
            var hunter = new Hunter(ruleSet, parser, options);
            var asJson = result.GetValue(json);
            var stdout = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 1 << 16) { AutoFlush = false };
            var terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            var progressShown = !Console.IsErrorRedirected;
            // On a terminal the alerts go through the console that draws the bar, which keeps them above it.
            var alertsAboveBar = progressShown && !asJson && !Console.IsOutputRedirected;
            var watch = Stopwatch.StartNew();
            HuntSummary summary = null!;
            try
            {
                async Task HuntAsync(ProgressTask? bar)
                {
                    var reporting = new HuntReporting
                    {
                        Rejected = line => Console.Error.WriteLine($"hydrant: rejected {line}"),
                        Notice = line => Console.Error.WriteLine($"hydrant: notice {line}"),
                        FileDone = file => bar?.Increment(new FileInfo(file).Length),
                    };
                    summary = await hunter.RunAsync(inputs.Select(f => f.FullName), async alert =>
                    {
                        if (asJson)
                        {
                            await stdout.WriteLineAsync(JsonSerializer.Serialize(alert, Json));
                            return;
                        }
                        var e = alert.Events[0];
                        var line = $"{alert.FirstSeen}  {alert.Level,-13} {alert.Title}  [{e.EventType} from {e.SourceIP}, {Path.GetFileName(e.File)}{(e.Record is { } r ? " #" + r : string.Empty)}]";
                        if (alertsAboveBar)
                        {
                            terminal.WriteLine(line);
                        }
                        else
                        {
                            await stdout.WriteLineAsync(line);
                        }
                    }, reporting, cancellationToken);
                }
                if (progressShown)
                {
                    await terminal.Progress()
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                        .StartAsync(progress => HuntAsync(progress.AddTask($"{inputs.Length} files", maxValue: Math.Max(1, inputs.Sum(f => f.Length)))));
                }
                else
                {
                    await HuntAsync(null);
                }
            }
            catch (InvalidDataException e)
            {
                await stdout.FlushAsync(cancellationToken);
                await Console.Error.WriteLineAsync($"hydrant: {e.Message}");
                return ExitCodes.BadInput;
            }
            await stdout.FlushAsync(cancellationToken);
            WriteSummary(summary, ruleSet, inputs.Length, watch.Elapsed, asJson);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteSummary(HuntSummary summary, RuleSet ruleSet, int files, TimeSpan elapsed, bool asJson)
    {
        WriteTop("rule", summary.ByRule, TopRules, name => name, asJson);
        WriteTop("file", summary.ByFile, TopFiles, Path.GetFileName, asJson);
        var rate = summary.Events / Math.Max(elapsed.TotalSeconds, 0.001);
        var levels = string.Join(", ", summary.ByLevel.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));
        (asJson ? Console.Error : Console.Out).WriteLine($"{summary.Events} events ({summary.Rejected} rejected) from {files} files, {ruleSet.Rules.Count} rules, {summary.Alerts} alerts{(levels.Length > 0 ? " (" + levels + ")" : string.Empty)} in {elapsed.TotalSeconds:0.00} s ({rate:0} events/s)");
    }

    /// <summary>The <paramref name="top"/> entries with the most alerts, and how many more there are.</summary>
    private static void WriteTop(string what, IReadOnlyDictionary<string, long> counts, int top, Func<string, string> show, bool toError)
    {
        if (counts.Count == 0)
        {
            return;
        }
        var rows = counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(top)
            .Select(p => (IReadOnlyList<string>)[show(p.Key), p.Value.ToString(CultureInfo.InvariantCulture)]).ToList();
        if (counts.Count > top)
        {
            rows.Add([$"... {counts.Count - top} more {what}s", string.Empty]);
        }
        TextTable.Write([what, "alerts"], rows, toError);
    }
}
