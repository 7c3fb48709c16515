using System.Text;
using Hydrant.Query;

namespace Hydrant.Tests.Query;

public sealed class FieldFilterTests
{
    private const string Event = """
        {"id":"e1","timestamp":"2026-11-24T10:00:00.000Z","eventType":"shell","sourceIP":"10.0.0.1","user":"Root","port":22,"ok":false,
         "cmd":{"line":"wget http://x/a*b"},"tags":["ssh","prod"],"a.b":"flat","a":{"b":"nested"}}
        """;

    private static bool Matches(params (string Name, string Value)[] conditions)
    {
        var filter = FieldFilter.Parse(conditions, out var error);
        Assert.Null(error);
        return filter!.Matches(Encoding.UTF8.GetBytes(Event));
    }

    [Theory]
    [InlineData("user", "root", true)]
    [InlineData("user", "ro*", true)]
    [InlineData("user", "r??t", true)]
    [InlineData("user", "roo", false)]
    [InlineData("cmd.line", "*wget*", true)]
    [InlineData("cmd.line", "*a\\*b", true)]
    [InlineData("cmd.line", "*a\\*c", false)]
    [InlineData("port", "22", true)]
    [InlineData("ok", "false", true)]
    [InlineData("tags", "prod", true)]
    [InlineData("tags", "dev", false)]
    [InlineData("a.b", "flat", true)]
    [InlineData("missing", "*", false)]
    [InlineData("cmd", "*", false)]
    public void A_value_is_compared_as_sigma_compares_it(string name, string value, bool expected) =>
        Assert.Equal(expected, Matches((name, value)));

    [Fact]
    public void Every_condition_must_hold()
    {
        Assert.True(Matches(("user", "root"), ("port", "22")));
        Assert.False(Matches(("user", "root"), ("port", "23")));
        Assert.True(Matches(("cmd.line", "wget*"), ("cmd.line", "*/a*")));
    }

    [Theory]
    [InlineData("", "a", "field.")]
    [InlineData("a..b", "x", "single dots")]
    [InlineData(".a", "x", "single dots")]
    public void Bad_names_are_refused_with_the_reason(string name, string value, string reason)
    {
        Assert.Null(FieldFilter.Parse([(name, value)], out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_many_conditions_or_too_long_a_value_is_refused()
    {
        Assert.Null(FieldFilter.Parse([.. Enumerable.Range(0, FieldFilter.MaxConditions + 1).Select(i => ($"f{i}", "x"))], out var many));
        Assert.Contains("at most 16", many, StringComparison.Ordinal);
        Assert.Null(FieldFilter.Parse([("user", new string('x', FieldFilter.MaxValueChars + 1))], out var longValue));
        Assert.Contains("at most 256", longValue, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_that_would_backtrack_exponentially_is_answered()
    {
        // "*a*a*...*b" against a long run of a's: catastrophic for a backtracking engine.
        var filter = FieldFilter.Parse([("user", string.Concat(Enumerable.Repeat("*a", 60)) + "*b")], out _)!;
        var json = Encoding.UTF8.GetBytes($$"""{"id":"e","timestamp":"2026-11-24T10:00:00.000Z","eventType":"t","sourceIP":"10.0.0.1","user":"{{new string('a', 5000)}}"}""");
        Assert.False(filter.Matches(json));
    }

    [Fact]
    public void A_page_ending_on_an_event_continues_after_its_sort_key() =>
        Assert.Equal("2026-11-24T10:00:00.000Z#shell#e1", FieldFilter.SortKeyOf(Encoding.UTF8.GetBytes(Event)));
}
