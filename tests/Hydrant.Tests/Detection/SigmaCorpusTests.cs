using System.Net;
using System.Text;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Detection;

/// <summary>SigmaHQ's own rules, compiled and run on the corpus logs through the real format parsers.</summary>
public sealed class SigmaCorpusTests
{
    private static readonly SigmaCompiler Compiler = new(SigmaOptions.Default);
    private static readonly EventParser Parser = new(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));

    private static SigmaRule CorpusRule(params string[] path) => Compiler.Compile(File.ReadAllText(Corpus.Path(["sigma", "rules", .. path])));

    private static List<SecurityEvent> Matching(SigmaRule rule, ParsedBatch batch) =>
        [.. batch.Events.Where(e =>
        {
            using var view = new EventView(e.Json);
            return rule.Matches(view);
        })];

    [Fact]
    public void Every_sigmahq_rule_compiles_and_the_specification_examples_do_too()
    {
        var files = Directory.GetFiles(Corpus.Path("sigma", "rules"), "*.yml", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Corpus.Path("sigma", "rules-threat-hunting"), "*.yml", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Corpus.Path("sigma", "specification", "tests", "schema", "rules"), "*.yml"))
            .ToList();
        var refused = new List<string>();
        foreach (var file in files)
        {
            try
            {
                Compiler.Compile(File.ReadAllText(file));
            }
            catch (SigmaException e)
            {
                refused.Add($"{file}: {e.Message}");
            }
        }
        Assert.True(files.Count > 150);
        Assert.True(refused.Count == 0, string.Join('\n', refused));
    }

    [Fact]
    public void A_rules_folder_loaded_on_every_core_holds_the_rules_and_refusals_of_compiling_it_file_by_file_in_path_order()
    {
        var folder = Corpus.Path("sigmahq", "rules", "windows", "builtin");
        var loaded = RuleSet.Load(folder, Compiler, includeDefaultPack: false);

        var rules = new List<(string Source, string Id)>();
        var refusals = new List<(string Source, string Reason)>();
        foreach (var file in RuleSet.RuleFiles(folder))
        {
            foreach (var compiled in Compiler.CompilePath(file))
            {
                if (compiled.Document is SigmaRule rule)
                {
                    rules.Add((file, rule.Id));
                }
                else if (compiled.Document is null)
                {
                    refusals.Add((file, compiled.Error!.Message));
                }
            }
        }
        Assert.True(rules.Count > 300, $"{rules.Count} rules");
        Assert.Equal(rules, loaded.Rules.Select(r => (r.Source, r.Rule.Id)));
        Assert.Equal(refusals, loaded.Refusals.Where(r => r.Source.StartsWith(folder, StringComparison.Ordinal)).Select(r => (r.Source, r.Reason)));
    }

    [Fact]
    public void The_placeholder_rule_is_refused_without_values_and_compiles_with_them()
    {
        var file = Directory.GetFiles(Corpus.Path("sigma", "rules-placeholder"), "*.yml", SearchOption.AllDirectories).Single();
        var refused = Assert.Throws<SigmaException>(() => Compiler.Compile(File.ReadAllText(file)));
        Assert.Contains("%Legitimate_Countries%", refused.Reason, StringComparison.Ordinal);
        Assert.True(refused.Line > 0);

        var configured = new SigmaCompiler(new SigmaOptions
        {
            Placeholders = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
            {
                ["Legitimate_Countries"] = ["NL", "FR"],
                ["Legitimate_IP_Ranges"] = ["198.51.100.*"],
            },
        });
        Assert.NotNull(configured.Compile(File.ReadAllText(file)));
    }

    [Fact]
    public void The_cloudtrail_disable_logging_rule_fires_on_the_stratus_stop_logging_detonation_only()
    {
        var rule = CorpusRule("cloud", "aws", "cloudtrail", "aws_cloudtrail_disable_logging.yml");
        var stop = File.ReadAllBytes(Corpus.Path("logs", "cloudtrail", "stratus-red-team-detonations", "aws.defense-evasion.cloudtrail-stop.json"));
        using var batch = Parser.Parse(stop, new ParseOptions { Format = InputFormat.CloudTrail });
        var expected = JsonDocument.Parse(stop).RootElement.EnumerateArray()
            .Count(r => r.GetProperty("eventSource").GetString() == "cloudtrail.amazonaws.com" && r.GetProperty("eventName").GetString() is "StopLogging" or "UpdateTrail" or "DeleteTrail");
        Assert.True(expected > 0);
        Assert.Equal(expected, Matching(rule, batch).Count);

        var other = File.ReadAllBytes(Corpus.Path("logs", "cloudtrail", "stratus-red-team-detonations", "aws.persistence.iam-create-admin-user.json"));
        using var unrelated = Parser.Parse(other, new ParseOptions { Format = InputFormat.CloudTrail });
        Assert.Empty(Matching(rule, unrelated));
    }

    [Fact]
    public void The_zeek_rdp_rule_fires_on_connections_from_outside_private_ranges()
    {
        var rule = CorpusRule("network", "zeek", "zeek_rdp_public_listener.yml");
        var path = Corpus.Path("logs", "zeek", "brimdata-wrccdc2018", "rdp.head1000.json");
        using var batch = Parser.Parse(File.ReadAllBytes(path), new ParseOptions { Format = InputFormat.Zeek });
        string[] privateRanges = ["10.0.0.0/8", "127.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];
        var expected = File.ReadLines(path)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id.orig_h").GetString()!)
            .Count(ip => !privateRanges.Any(r => IPNetwork.Parse(r).Contains(IPAddress.Parse(ip))));
        Assert.Equal(expected, Matching(rule, batch).Count);

        using var dns = Parser.Parse(File.ReadAllBytes(Corpus.Path("logs", "zeek", "brimdata-wrccdc2018", "dns.head5000.json")), new ParseOptions { Format = InputFormat.Zeek });
        Assert.Empty(Matching(rule, dns)); // logsource zeek/rdp only
    }

    [Fact]
    public void CloudTrails_own_event_type_is_still_eventType_to_rules_written_for_cloudtrail()
    {
        var rule = CorpusRule("cloud", "aws", "cloudtrail", "aws_root_account_usage.yml");
        var record = """{"eventTime":"2026-11-20T10:00:00Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","sourceIPAddress":"203.0.113.8","userIdentity":{"type":"Root"},"eventType":"%TYPE%"}""";
        using var api = Parser.Parse(Encoding.UTF8.GetBytes(record.Replace("%TYPE%", "AwsApiCall", StringComparison.Ordinal)), new ParseOptions { Format = InputFormat.CloudTrail });
        using var service = Parser.Parse(Encoding.UTF8.GetBytes(record.Replace("%TYPE%", "AwsServiceEvent", StringComparison.Ordinal)), new ParseOptions { Format = InputFormat.CloudTrail });
        Assert.Single(Matching(rule, api));
        Assert.Empty(Matching(rule, service)); // "not selection_eventtype" sees CloudTrail's AwsServiceEvent
    }
}
