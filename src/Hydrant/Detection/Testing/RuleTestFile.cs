using System.Globalization;
using System.Text;
using System.Text.Json;
using Hydrant.Detection.Sigma;
using Hydrant.Enrichment.Intel;
using Hydrant.Events;
using Hydrant.Events.Formats;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Hydrant.Detection.Testing;

/// <summary>An alert a test expects; each part given must hold, a part left out is not compared.</summary>
public sealed record ExpectedAlert(long? Count, string? GroupKey, string? Level);

/// <summary>
/// One test of a rule (docs/rules-testing.md): events that must match it alone and events that
/// must not, or a stream of events and the alerts it must raise (correlations); its events are
/// records of one input format, enriched first with the intel lists it gives.
/// </summary>
public sealed record RuleTestCase(string File, int Number, string Name, string Rule)
{
    public ParseOptions Options { get; init; } = new() { KeepEnrichment = true };

    public IReadOnlyList<string> Match { get; init; } = [];

    public IReadOnlyList<string> NoMatch { get; init; } = [];

    public IReadOnlyList<string> Events { get; init; } = [];

    /// <summary>The alerts the events must raise, in order; null when the test gives none to compare.</summary>
    public IReadOnlyList<ExpectedAlert>? Alerts { get; init; }

    public IReadOnlyList<IntelList> Intel { get; init; } = [];

    /// <summary>Why the test could not be read; it then fails with this.</summary>
    public string? Problem { get; init; }
}

/// <summary>
/// Reads the tests of a file: YAML, one test per document (<c>---</c> between them), or NDJSON,
/// one test per line, in the same shape. A test that cannot be read becomes one that fails
/// saying why, so a typo never passes silently.
/// </summary>
public static class RuleTestFile
{
    public const int MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>The first event's time when a JSON event gives none; each next one a second later.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] Keys = ["rule", "name", "format", "intel", "match", "nomatch", "events", "alerts"];

    /// <summary>A test file beside the rules: <c>*.test.yml</c>, <c>*.test.yaml</c> or <c>*.test.ndjson</c> (never loaded as rules).</summary>
    public static bool IsTestFile(string path) =>
        path.EndsWith(".test.yml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".test.yaml", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".test.ndjson", StringComparison.OrdinalIgnoreCase);

    /// <summary>The test files of a folder given for tests: every YAML or NDJSON file under it; of the rules folder, its <see cref="IsTestFile"/> files.</summary>
    public static IEnumerable<string> Find(string directory, bool testsFolder) =>
        Directory.EnumerateFiles(directory, "*.*", SearchOption.AllDirectories)
            .Where(f => testsFolder
                ? RuleSet.IsYaml(f) || f.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase)
                : IsTestFile(f))
            .Order(StringComparer.Ordinal);

    public static IReadOnlyList<RuleTestCase> Load(string path, string name)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes)
        {
            return [new RuleTestCase(name, 1, name, "") { Problem = $"the file is {info.Length} bytes, more than {MaxFileBytes}" }];
        }
        var text = File.ReadAllText(path);
        if (path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
        {
            var lines = text.Split('\n');
            return [.. lines.Select((line, i) => (Line: line.Trim(), Number: i + 1)).Where(l => l.Line.Length > 0).Select(l => ReadOne(name, l.Number, l.Line, $"line {l.Number}"))];
        }
        var cases = new List<RuleTestCase>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new RuleLimits.CheckedYamlParser(text));
        }
        catch (Exception e) when (e is YamlException or SigmaException)
        {
            return [new RuleTestCase(name, 1, name, "") { Problem = $"not YAML: {e.Message}" }];
        }
        foreach (var document in stream.Documents)
        {
            cases.Add(Read(name, cases.Count + 1, document.RootNode, $"test {cases.Count + 1}"));
        }
        return cases;
    }

    private static RuleTestCase ReadOne(string file, int number, string yaml, string where)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new RuleLimits.CheckedYamlParser(yaml));
        }
        catch (Exception e) when (e is YamlException or SigmaException)
        {
            return new RuleTestCase(file, number, where, "") { Problem = $"{where}: not JSON: {e.Message}" };
        }
        return stream.Documents.Count == 1 ? Read(file, number, stream.Documents[0].RootNode, where) : new RuleTestCase(file, number, where, "") { Problem = $"{where}: one test per line" };
    }

    private static RuleTestCase Read(string file, int number, YamlNode root, string where)
    {
        RuleTestCase Fail(string problem, string? name = null) => new(file, number, name ?? where, "") { Problem = $"{where}: {problem}" };
        if (root is not YamlMappingNode test)
        {
            return Fail("a test is a mapping with rule, and match/nomatch or events/alerts");
        }
        string? Scalar(string key) => test.Children.TryGetValue(key, out var node) ? (node as YamlScalarNode)?.Value : null;
        var name = Scalar("name") ?? where;
        if (test.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value!).FirstOrDefault(k => !Keys.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            return Fail($"unknown key '{unknown}' (a test has {string.Join(", ", Keys)})", name);
        }
        if (Scalar("rule") is not { Length: > 0 } rule)
        {
            return Fail("rule: the id or title of the rule under test is missing", name);
        }
        if (!ParseOptions.TryParseFormat(Scalar("format"), out var format) || format == InputFormat.Evtx)
        {
            return Fail($"format: one of json, cloudtrail, zeek, syslog, web, windows (got '{Scalar("format")}')", name);
        }
        try
        {
            var events = (string key) => Records(test, key, format, number);
            var result = new RuleTestCase(file, number, name, rule)
            {
                Options = new ParseOptions { Format = format, KeepEnrichment = true },
                Match = events("match"),
                NoMatch = events("nomatch"),
                Events = events("events"),
                Alerts = test.Children.TryGetValue("alerts", out var alerts) ? Alerts(alerts) : null,
                Intel = test.Children.TryGetValue("intel", out var intel) ? Lists(intel) : [],
            };
            if (result.Match.Count + result.NoMatch.Count + result.Events.Count == 0)
            {
                return Fail("no events: give match, nomatch, or events with alerts", name);
            }
            if (result.Events.Count > 0 && result.Alerts is null)
            {
                return Fail("events without alerts: say which alerts they must raise (alerts: [] for none)", name);
            }
            return result;
        }
        catch (FormatException e)
        {
            return Fail(e.Message, name);
        }
    }

    /// <summary>Each event as the record the format reads: a mapping as one JSON object (a JSON event given no id or timestamp gets one), a string as it is.</summary>
    private static List<string> Records(YamlMappingNode test, string key, InputFormat format, int number)
    {
        if (!test.Children.TryGetValue(key, out var node))
        {
            return [];
        }
        if (node is not YamlSequenceNode events)
        {
            throw new FormatException($"{key}: a list of events");
        }
        var records = new List<string>();
        foreach (var e in events)
        {
            var n = records.Count;
            records.Add(e switch
            {
                YamlScalarNode line => line.Value ?? "",
                YamlMappingNode fields => Json(fields, format == InputFormat.Json
                    ? [("id", $"test{number}-{key}-{n + 1}"), ("timestamp", Timestamps.ToText(DefaultStart.AddSeconds(n).ToUnixTimeMilliseconds()))]
                    : []),
                _ => throw new FormatException($"{key}: event {n + 1} is a list; an event is a mapping of fields or a line of text"),
            });
        }
        return records;
    }

    private static List<ExpectedAlert> Alerts(YamlNode node)
    {
        if (node is not YamlSequenceNode alerts)
        {
            throw new FormatException("alerts: a list of the alerts expected, each with count, groupKey or level ([] for none)");
        }
        return [.. alerts.Select((a, i) =>
        {
            if (a is not YamlMappingNode alert)
            {
                throw new FormatException($"alerts: alert {i + 1} is a mapping of count, groupKey, level");
            }
            string? Of(string key) => alert.Children.TryGetValue(key, out var v) ? (v as YamlScalarNode)?.Value : null;
            long? count = Of("count") is { } c ? long.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw new FormatException($"alerts: alert {i + 1}: count is a whole number") : null;
            return new ExpectedAlert(count, Of("groupKey"), Of("level"));
        })];
    }

    private static List<IntelList> Lists(YamlNode node)
    {
        if (node is not YamlSequenceNode lists)
        {
            throw new FormatException("intel: a list of {name, level, entries}");
        }
        return [.. lists.Select((l, i) =>
        {
            if (l is not YamlMappingNode list || !list.Children.TryGetValue("name", out var name) || name is not YamlScalarNode { Value: { Length: > 0 } listName })
            {
                throw new FormatException($"intel: list {i + 1} needs a name");
            }
            var entries = list.Children.TryGetValue("entries", out var e) && e is YamlSequenceNode sequence
                ? sequence.OfType<YamlScalarNode>().Select(s => s.Value)
                : throw new FormatException($"intel: list '{listName}' needs entries (addresses, networks or domains)");
            var level = list.Children.TryGetValue("level", out var lv) ? (lv as YamlScalarNode)?.Value : null;
            var domains = list.Children.TryGetValue("format", out var f) && (f as YamlScalarNode)?.Value == "domains";
            using var text = new StringReader(string.Join('\n', entries));
            return IntelList.Parse(listName, text, new IntelListOptions
            {
                Level = IntelListDocument.ParseLevel(level),
                Format = domains ? IntelListFormat.Domains : IntelListFormat.Lines,
            });
        })];
    }

    /// <summary>A YAML mapping as JSON: plain scalars that read as numbers, booleans or null as such, every other scalar a string.</summary>
    private static string Json(YamlMappingNode fields, IReadOnlyList<(string Key, string Value)> defaults)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in fields.Children)
            {
                writer.WritePropertyName(((YamlScalarNode)key).Value ?? "");
                Write(writer, value);
            }
            foreach (var (key, value) in defaults.Where(d => !fields.Children.ContainsKey(d.Key)))
            {
                writer.WriteString(key, value);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Children)
                {
                    writer.WritePropertyName(((YamlScalarNode)key).Value ?? "");
                    Write(writer, value);
                }
                writer.WriteEndObject();
                break;
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                foreach (var item in sequence)
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case YamlScalarNode { Style: ScalarStyle.Plain, Value: var plain }:
                if (plain is null or "null" or "~" or "")
                {
                    writer.WriteNullValue();
                }
                else if (plain is "true" or "false")
                {
                    writer.WriteBooleanValue(plain == "true");
                }
                else if (long.TryParse(plain, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
                {
                    writer.WriteNumberValue(whole);
                }
                else if (double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
                {
                    writer.WriteNumberValue(real);
                }
                else
                {
                    writer.WriteStringValue(plain);
                }
                break;
            case YamlScalarNode scalar:
                writer.WriteStringValue(scalar.Value);
                break;
        }
    }
}
