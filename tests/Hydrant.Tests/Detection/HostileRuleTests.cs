using System.Diagnostics;
using System.Text;
using Hydrant.Detection.Sigma;

namespace Hydrant.Tests.Detection;

/// <summary>Rules come from users: each hostile one is refused with the reason, quickly, never a crash or a runaway.</summary>
public sealed class HostileRuleTests
{
    private static readonly SigmaCompiler Compiler = new(new SigmaOptions
    {
        Placeholders = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase) { ["x"] = ["a", "b", "c", "d"] },
    });

    private static string Rule(string detection) => $"""
        title: hostile
        logsource:
            product: test
        detection:
        {string.Join('\n', detection.Split('\n').Select(l => "    " + l))}
        level: high
        """;

    private static SigmaException Refused(string yaml)
    {
        var watch = Stopwatch.StartNew();
        var documents = Compiler.CompileFile(yaml);
        var error = Assert.Single(documents).Error;
        Assert.NotNull(error);
        // Not a benchmark: a refusal that took minutes would mean the bound was never reached.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"refused after {watch.Elapsed}");
        return error;
    }

    [Fact]
    public void A_condition_ten_thousand_parentheses_deep_is_refused_without_overflowing_the_stack()
    {
        var condition = new string('(', 10_000) + "selection" + new string(')', 10_000);
        var error = Refused(Rule($"selection:\n    a: 1\ncondition: '{condition}'"));
        Assert.Contains("over the limit", error.Message, StringComparison.Ordinal);

        var nested = string.Concat(Enumerable.Repeat("( ", 40)) + "selection" + string.Concat(Enumerable.Repeat(" )", 40));
        Assert.Contains("nests parentheses and 'not' more than 32 deep", Refused(Rule($"selection:\n    a: 1\ncondition: '{nested}'")).Message, StringComparison.Ordinal);
        var nots = string.Concat(Enumerable.Repeat("not ", 100)) + "selection";
        Assert.Contains("more than 32 deep", Refused(Rule($"selection:\n    a: 1\ncondition: '{nots}'")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_condition_as_deep_as_allowed_still_compiles_and_matches()
    {
        var nested = string.Concat(Enumerable.Repeat("( ", 31)) + "selection" + string.Concat(Enumerable.Repeat(" )", 31));
        var rule = Compiler.Compile(Rule($"selection:\n    a: 1\ncondition: '{nested}'"));
        using var view = new EventView(Encoding.UTF8.GetBytes("""{"logsource":{"product":"test"},"a":1}"""));
        Assert.True(rule.Matches(view));
    }

    [Fact]
    public void Chained_base64offset_modifiers_are_refused_before_they_expand()
    {
        var chain = string.Concat(Enumerable.Repeat("|base64offset", 15));
        var error = Refused(Rule($"selection:\n    payload{chain}|contains: 'attack'\ncondition: selection"));
        Assert.Contains("expand past 4096 values", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_of_many_fields_are_bounded_for_the_rule_as_a_whole()
    {
        var fields = string.Join('\n', Enumerable.Range(0, 40).Select(i => $"    f{i}|base64offset|base64offset|base64offset|base64offset|base64offset|base64offset|contains: ['aaaaaaaaaaaa','bbbbbbbbbbbb','cccccccccccc','dddddddddddd']"));
        Assert.Contains("expand past 65536 in all", Refused(Rule($"selection:\n{fields}\ncondition: selection")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Base64offset_of_a_value_too_short_for_an_offset_leaves_that_variant_out_instead_of_matching_everything()
    {
        var rule = Compiler.Compile(Rule("selection:\n    payload|base64offset|contains: 'a'\ncondition: selection"));
        using var unrelated = new EventView(Encoding.UTF8.GetBytes("""{"logsource":{"product":"test"},"payload":"zzzz"}"""));
        Assert.False(rule.Matches(unrelated));
        using var encoded = new EventView(Encoding.UTF8.GetBytes("""{"logsource":{"product":"test"},"payload":"xxYQ==xx"}"""));
        Assert.True(rule.Matches(encoded));
    }

    [Fact]
    public void Placeholders_expand_without_recursion_and_are_bounded()
    {
        var many = string.Concat(Enumerable.Repeat("%x%", 17));
        Assert.Contains("at most 16 placeholders", Refused(Rule($"selection:\n    user|expand: '{many}'\ncondition: selection")).Message, StringComparison.Ordinal);
        var seven = string.Concat(Enumerable.Repeat("%x%", 7));
        Assert.Contains("expand past 4096 values", Refused(Rule($"selection:\n    user|expand: '{seven}'\ncondition: selection")).Message, StringComparison.Ordinal);
        var rule = Compiler.Compile(Rule("selection:\n    user|expand: '%x%-%x%'\ncondition: selection"));
        using var view = new EventView(Encoding.UTF8.GetBytes("""{"logsource":{"product":"test"},"user":"c-d"}"""));
        Assert.True(rule.Matches(view));
    }

    [Fact]
    public void A_yaml_alias_bomb_is_refused_before_it_is_loaded()
    {
        var bomb = new StringBuilder("title: bomb\nlogsource:\n    product: test\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 12; i++)
        {
            bomb.Append(System.Globalization.CultureInfo.InvariantCulture, $"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        }
        bomb.Append("detection:\n    selection: *a11\n    condition: selection\n");
        var error = Refused(bomb.ToString());
        Assert.Contains("YAML aliases (*a0) are not allowed", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, error.Line);
    }

    [Fact]
    public void Yaml_nested_too_deep_or_with_a_non_scalar_key_is_refused_with_its_place()
    {
        var deep = Refused("title: deep\nx: " + new string('[', 5000) + new string(']', 5000) + "\n");
        Assert.Contains("nested more than 32 levels", deep.Message, StringComparison.Ordinal);

        var key = Refused(Rule("selection:\n    ? [a, b]\n    : 1\ncondition: selection"));
        Assert.Contains("a mapping key must be a plain value", key.Message, StringComparison.Ordinal);
        Assert.Equal(6, key.Line);
        var mapKey = Refused("title: k\n? {a: 1}\n: 2\n");
        Assert.Contains("a mapping key must be a plain value", mapKey.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999999999d")]
    [InlineData("9223372036854775807s")]
    [InlineData("31d")]
    [InlineData("745h")]
    public void A_timespan_past_thirty_days_is_refused(string timespan)
    {
        var error = Refused($"""
            title: long
            correlation:
                type: event_count
                rules: [a]
                timespan: {timespan}
                condition:
                    gte: 2
            """);
        Assert.Contains("longer than the longest allowed, 30d", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_regex_past_its_length_limit_is_refused()
    {
        var pattern = new string('a', RuleLimits.MaxRegexChars + 1);
        Assert.Contains("over the limit of 16384", Refused(Rule($"selection:\n    x|re: '{pattern}'\ncondition: selection")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_file_over_one_mebibyte_is_one_refusal_without_being_read()
    {
        var path = Path.Combine(Path.GetTempPath(), "hydrant-big-" + Guid.NewGuid().ToString("N") + ".yml");
        try
        {
            using (var file = File.Create(path))
            {
                file.SetLength(RuleLimits.MaxRuleBytes + 1);
            }
            var error = Assert.Single(Compiler.CompilePath(path)).Error;
            Assert.Contains("over the limit of 1048576", error!.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
