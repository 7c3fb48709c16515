using System.CommandLine;
using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Detection.Testing;
using Hydrant.Events;

namespace Hydrant.Cli.Commands;

/// <summary>
/// <c>hydrant rules test RULES_DIR [TESTS_DIR] [--junit FILE]</c>: detection as code. Runs every
/// test (docs/rules-testing.md) against the rules as <c>serve --rules</c> would load them; a
/// failed test shows what was expected and what happened. Exit 0 when every test passed, 1 when
/// one failed, 2 when there is nothing to test.
/// </summary>
internal static class RulesTestCommand
{
    public static Command Create()
    {
        var rulesDirectory = new Argument<DirectoryInfo>("RULES_DIR") { Description = "Folder of Sigma rules (*.yml, *.yaml; searched recursively; *.test.yml files are tests, not rules)" };
        var testsDirectory = new Argument<DirectoryInfo?>("TESTS_DIR") { Description = "Folder of tests (every *.yml, *.yaml, *.ndjson under it); by default the *.test.yml, *.test.yaml and *.test.ndjson files under RULES_DIR", Arity = ArgumentArity.ZeroOrOne };
        var junit = new Option<FileInfo?>("--junit") { Description = "Also write the results as JUnit XML to FILE, for CI" };
        var command = new Command("test", "Run the tests of a folder of Sigma rules: events that must match or not, and the alerts a stream of events must raise") { rulesDirectory, testsDirectory, junit };
        command.SetAction(async (result, cancellationToken) =>
        {
            var rulesRoot = result.GetValue(rulesDirectory)!;
            var testsRoot = result.GetValue(testsDirectory);
            foreach (var folder in new[] { rulesRoot, testsRoot }.OfType<DirectoryInfo>().Where(d => !d.Exists))
            {
                await Console.Error.WriteLineAsync($"hydrant: {folder.FullName} does not exist");
                return ExitCodes.BadInput;
            }
            var rules = RuleSet.Load(rulesRoot.FullName, new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: false);
            foreach (var refusal in rules.Refusals)
            {
                await Console.Error.WriteLineAsync($"refused {refusal.Source}: {refusal.Reason}");
            }
            var root = testsRoot ?? rulesRoot;
            var cases = RuleTestFile.Find(root.FullName, testsFolder: testsRoot is not null)
                .SelectMany(f => RuleTestFile.Load(f, Path.GetRelativePath(root.FullName, f)))
                .ToList();
            if (cases.Count == 0)
            {
                await Console.Error.WriteLineAsync(testsRoot is null
                    ? $"hydrant: no tests under {rulesRoot.FullName} (test files end in .test.yml, .test.yaml or .test.ndjson)"
                    : $"hydrant: no tests under {testsRoot.FullName} (*.yml, *.yaml, *.ndjson)");
                return ExitCodes.BadInput;
            }
            var runner = new RuleTestRunner(rules, new EventParser(EventLimits.Default, TimeProvider.System));
            // Colour for a person at a terminal; plain, unwrapped lines for a pipe or a CI log.
            var colour = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null or "";
            string Mark(bool passed) => (passed, colour) switch
            {
                (true, true) => "\e[32mPASS\e[0m",
                (false, true) => "\e[31mFAIL\e[0m",
                (var p, false) => p ? "PASS" : "FAIL",
            };
            var results = new List<RuleTestResult>();
            foreach (var test in cases)
            {
                var outcome = await runner.RunAsync(test, cancellationToken);
                results.Add(outcome);
                Console.WriteLine($"{Mark(outcome.Passed)} {test.File}: {test.Name}");
                foreach (var failure in outcome.Failures)
                {
                    Console.WriteLine("     " + failure.ReplaceLineEndings("\n     "));
                }
            }
            var failed = results.Count(r => !r.Passed);
            Console.WriteLine($"{results.Count} tests: {results.Count - failed} passed, {failed} failed");
            if (result.GetValue(junit) is { } junitFile)
            {
                WriteJUnit(results, junitFile.FullName);
            }
            return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>One testsuite per test file, one testcase per test, a failure element with the whole report (the format CI servers read).</summary>
    internal static void WriteJUnit(IReadOnlyList<RuleTestResult> results, string path)
    {
        static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
        // Events can hold characters XML cannot carry (control characters): shown as U+FFFD.
        static string Clean(string text) => string.Concat(text.Select(c => XmlConvert.IsXmlChar(c) || char.IsSurrogate(c) ? c : '\uFFFD'));
        var suites = results.GroupBy(r => r.Case.File).Select(file => new XElement("testsuite",
            new XAttribute("name", Clean(file.Key)),
            new XAttribute("tests", file.Count()),
            new XAttribute("failures", file.Count(r => !r.Passed)),
            new XAttribute("errors", 0),
            new XAttribute("time", Seconds(TimeSpan.FromTicks(file.Sum(r => r.Took.Ticks)))),
            file.Select(r => new XElement("testcase",
                new XAttribute("classname", Clean(r.Case.File)),
                new XAttribute("name", Clean(r.Case.Name)),
                new XAttribute("time", Seconds(r.Took)),
                r.Passed ? null : new XElement("failure", new XAttribute("message", Clean(r.Failures[0].Split('\n')[0])), Clean(string.Join("\n", r.Failures)))))));
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites",
            new XAttribute("name", "hydrant rules test"),
            new XAttribute("tests", results.Count),
            new XAttribute("failures", results.Count(r => !r.Passed)),
            new XAttribute("time", Seconds(TimeSpan.FromTicks(results.Sum(r => r.Took.Ticks)))),
            suites));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var writer = XmlWriter.Create(path, new XmlWriterSettings { Encoding = new System.Text.UTF8Encoding(false), Indent = true });
        document.Save(writer);
    }
}
