using System.Text;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;

namespace Hydrant.Tests.Detection;

/// <summary>Sigma filters (sigma-filters-specification.md): tuning added to the named rules as "and not".</summary>
public sealed class SigmaFilterTests
{
    private const string Rule = """
        title: Archive Tool Used
        id: 6f3e2987-db24-4c78-a860-b4f4095a7095
        name: archive_tool
        logsource:
            product: test
        detection:
            selection:
                Image|endswith: '\rar.exe'
            condition: selection
        level: medium
        """;

    private static string Filter(string target, string product = "test") => $"""
        title: Filter Administrator account
        logsource:
            product: {product}
        filter:
            rules:
                - {target}
            selection:
                User|startswith: 'adm_'
            condition: selection
        """;

    private static bool Fires(RuleSet rules, string user)
    {
        using var view = new EventView(Encoding.UTF8.GetBytes($$"""{"logsource":{"product":"test"},"Image":"C:\\tools\\rar.exe","User":"{{user}}"}"""));
        return rules.Matching(view).Any();
    }

    private static RuleSet Load(params string[] documents)
    {
        var directory = Path.Combine(Path.GetTempPath(), "sigma-filter-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            for (var i = 0; i < documents.Length; i++)
            {
                File.WriteAllText(Path.Combine(directory, $"{i}.yml"), documents[i]);
            }
            return RuleSet.Load(directory, new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: false);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_specification_example_filter_compiles()
    {
        var filter = Assert.IsType<SigmaFilter>(Assert.Single(new SigmaCompiler(SigmaOptions.Default).CompileAll(
            File.ReadAllText(Corpus.Path("sigma", "specification", "tests", "schema", "filter", "filter_1.yml")))));
        Assert.Equal(["6f3e2987-db24-4c78-a860-b4f4095a7095", "df0841c0-9846-4e9f-ad8a-7df91571771b"], filter.Rules);
    }

    [Theory]
    [InlineData("6f3e2987-db24-4c78-a860-b4f4095a7095")]
    [InlineData("archive_tool")]
    public void A_filter_suppresses_what_it_matches_in_the_rules_it_names(string target)
    {
        var unfiltered = Load(Rule);
        Assert.True(Fires(unfiltered, "adm_alice"));

        var filtered = Load(Rule, Filter(target));
        Assert.Empty(filtered.Refusals);
        Assert.False(Fires(filtered, "adm_alice"));
        Assert.True(Fires(filtered, "bob"));
    }

    [Fact]
    public void A_filter_of_another_logsource_does_not_apply_and_one_naming_no_rule_is_reported()
    {
        Assert.True(Fires(Load(Rule, Filter("archive_tool", product: "other")), "adm_alice"));
        var set = Load(Rule, Filter("no-such-rule"));
        Assert.Contains("names rule 'no-such-rule', which is not loaded", Assert.Single(set.Refusals).Reason, StringComparison.Ordinal);
        Assert.True(Fires(set, "adm_alice"));
    }
}
