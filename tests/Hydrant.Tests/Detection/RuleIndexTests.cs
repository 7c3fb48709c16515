using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Detection;

public sealed class RuleIndexTests
{
    private static readonly SigmaCompiler Compiler = new(SigmaOptions.Default);

    private static Requirement? RequirementOf(string detection) => Compiler.Compile($"""
        title: t
        logsource:
            product: test
        detection:
        {string.Join('\n', detection.Split('\n').Select(l => "    " + l))}
        """).Requirement;

    private static string Substring(Requirement? requirement) =>
        (requirement!.IsSubstring ? "contains " : "equals ") + string.Join(',', requirement.Values.Order(StringComparer.Ordinal));

    [Fact]
    public void Requirements_follow_the_condition_soundly()
    {
        Assert.Equal(["a", "b"], RequirementOf("sel:\n    F:\n        - a\n        - b\ncondition: sel")!.Values.Order());
        Assert.Equal("F", RequirementOf("sel:\n    F: a\nfilter:\n    G: x\ncondition: sel and not filter")!.Field);
        Assert.Null(RequirementOf("sel:\n    F: a\ncondition: not sel"));
        Assert.Null(RequirementOf("a:\n    F: a\nb:\n    G: b\ncondition: a or b"));
        Assert.Equal(["a", "b"], RequirementOf("s1:\n    F: a\ns2:\n    F: b\ncondition: 1 of s*")!.Values.Order());
        Assert.Equal("F", RequirementOf("s1:\n    F: a\ns2:\n    G: b\n    H: c\ncondition: all of s*")!.Field);
        Assert.Equal("contains abc", Substring(RequirementOf("sel:\n    F: 'abc*d'\ncondition: sel")));
        Assert.Equal("contains evil", Substring(RequirementOf("sel:\n    F|contains: evil\ncondition: sel")));
        Assert.Equal("contains x.exe,y.dll", Substring(RequirementOf("sel:\n    F|endswith:\n        - x.exe\n        - y.dll\ncondition: sel")));
        Assert.Equal("contains abcd", Substring(RequirementOf("sel:\n    F|contains|all:\n        - ab\n        - abcd\ncondition: sel")));
        Assert.Equal("contains mimikatz", Substring(RequirementOf("keywords:\n    - mimikatz\ncondition: keywords")));
        Assert.Null(RequirementOf("sel:\n    F|contains: ab\ncondition: sel")); // too short to be worth indexing
        Assert.Null(RequirementOf("sel:\n    F: '*'\ncondition: sel"));
        Assert.Null(RequirementOf("sel:\n    F|re: 'a.*b'\ncondition: sel"));
        Assert.Null(RequirementOf("sel:\n    F|windash|contains: '-xyz'\ncondition: sel"));
        // Equality implies containment: OR-ed with a substring it joins the needles.
        Assert.Equal("contains abc,def", Substring(RequirementOf("s1:\n    F: abc\ns2:\n    F|contains: def\ncondition: s1 or s2")));
        // AND-ed, equality is the better index unless the substrings are long enough to be rare.
        Assert.Equal("equals GET", Substring(RequirementOf("s1:\n    M: GET\ns2:\n    U|contains: '../'\ncondition: s1 and s2")));
        Assert.Equal("contains <script", Substring(RequirementOf("s1:\n    M: GET\ns2:\n    U|contains: '<script'\ncondition: s1 and s2")));
        Assert.Null(RequirementOf("sel:\n    F: null\ncondition: sel"));
        Assert.Equal("F", RequirementOf("sel:\n    F|cased: A\ncondition: sel")!.Field);
    }

    [Fact]
    public void The_indexed_rule_set_finds_exactly_what_testing_every_rule_finds_on_the_corpus()
    {
        var rules = Directory.GetFiles(Corpus.Path("sigma", "rules"), "*.yml", SearchOption.AllDirectories)
            .Select(f => new LoadedRule(Compiler.Compile(File.ReadAllText(f)), f)).ToList();
        Assert.Contains(rules, r => r.Rule.Requirement is not null);
        var set = new RuleSet(rules.Select(r => new LoadedDocument(r.Rule, r.Source)), []);
        var parser = new EventParser(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));
        var logs = Corpus.Path("logs");
        var inputs = Directory.GetFiles(Path.Combine(logs, "zeek", "brimdata-wrccdc2018"), "*.json").Select(f => (f, InputFormat.Zeek))
            .Concat(Directory.GetFiles(Path.Combine(logs, "cloudtrail"), "*.json", SearchOption.AllDirectories).Select(f => (f, InputFormat.CloudTrail)))
            .Append((Path.Combine(logs, "loghub", "OpenSSH", "OpenSSH_2k.log"), InputFormat.Syslog))
            .Append((Path.Combine(logs, "web-apache-access-elastic", "apache_logs.2015-05-17.log"), InputFormat.Web));

        var matches = 0;
        foreach (var (file, format) in inputs)
        {
            using var batch = parser.Parse(File.ReadAllBytes(file), new ParseOptions { Format = format });
            foreach (var e in batch.Events)
            {
                using var view = new EventView(e.Json);
                var indexed = set.Matching(view).Select(r => r.Id).Order(StringComparer.Ordinal).ToList();
                var everyRule = rules.Where(r => r.Rule.Matches(view)).Select(r => r.Rule.Id).Order(StringComparer.Ordinal).ToList();
                Assert.Equal(everyRule, indexed);
                matches += indexed.Count;
            }
        }
        Assert.True(matches > 0, "the corpus rules should fire on some corpus events");
    }
}
