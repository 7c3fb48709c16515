using Hydrant.Detection.Sigma;

namespace Hydrant.Tests.Detection;

public sealed class RuleAboutTests
{
    [Fact]
    public void Attack_tags_give_technique_ids_and_tactics_but_not_groups_or_software()
    {
        string[] tags = ["attack.credential-access", "attack.t1110.001", "attack.T1110", "attack.g0016", "attack.s0002", "cve.2021-44228", "attack.t1110.001"];
        Assert.Equal(["T1110.001", "T1110"], RuleAbout.Techniques(tags));
        Assert.Equal(["credential-access"], RuleAbout.Tactics(tags));
    }

    [Fact]
    public void The_compiler_keeps_each_documents_metadata_and_own_yaml()
    {
        const string Yaml = """
            title: Counted
            id: c-1
            description: Many of them.
            author: someone
            date: 2026-11-30
            references:
                - https://example.org/a
            falsepositives:
                - Backups
            correlation:
                type: event_count
                rules: [one]
                group-by: [sourceIP]
                timespan: 1m
                condition: {gte: 3}
            ---
            title: One
            id: r-1
            name: one
            description: A single event.
            logsource: {product: test}
            detection:
                selection: {user: root}
                condition: selection
            """;
        var documents = new SigmaCompiler(SigmaOptions.Default).CompileFile(Yaml);
        var (correlation, rule) = (documents[0].Document!.About, documents[1].Document!.About);
        Assert.Equal(("Many of them.", "someone", "2026-11-30"), (correlation.Description, correlation.Author, correlation.Date));
        Assert.Equal(["https://example.org/a"], correlation.References);
        Assert.Equal(["Backups"], correlation.FalsePositives);
        Assert.StartsWith("title: Counted", correlation.Yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("title: One", correlation.Yaml, StringComparison.Ordinal);
        Assert.StartsWith("title: One", rule.Yaml, StringComparison.Ordinal);
        Assert.EndsWith("condition: selection", rule.Yaml, StringComparison.Ordinal);
        Assert.Empty(rule.References);
    }
}
