using System.Text;
using Hydrant.Detection.Sigma;

namespace Hydrant.Tests.Detection;

/// <summary>Conformance with the Sigma specification documents: values, wildcards, modifiers, null, keywords, conditions.</summary>
public sealed class SigmaConformanceTests
{
    private static readonly SigmaCompiler Compiler = new(new SigmaOptions
    {
        Placeholders = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase) { ["Admins"] = ["root", "adm*"] },
    });

    /// <summary>A rule with the given detection lines (YAML, indented under detection:).</summary>
    private static SigmaRule Rule(string detection, string logsource = "product: test") =>
        Compiler.Compile($"""
            title: conformance
            logsource:
                {logsource}
            detection:
            {Indent(detection)}
            level: high
            """);

    private static string Indent(string text) => string.Join('\n', text.Split('\n').Select(l => "    " + l));

    private static bool Match(SigmaRule rule, string eventJson)
    {
        var json = eventJson.TrimStart().StartsWith('{') ? eventJson.Trim()[1..^1] : eventJson;
        using var view = new EventView(Encoding.UTF8.GetBytes("{\"logsource\":{\"product\":\"test\"}," + json + "}"));
        return rule.Matches(view);
    }

    [Theory]
    [InlineData("cmd.exe", "\"cmd.exe\"", true)]
    [InlineData("cmd.exe", "\"CMD.EXE\"", true)]
    [InlineData("cmd.exe", "\"xcmd.exe\"", false)]
    [InlineData("prog?.exe", "\"progA.exe\"", true)]
    [InlineData("prog?.exe", "\"prog.exe\"", false)]
    [InlineData("antivirus_V*.exe", "\"antivirus_V21.2.1.exe\"", true)]
    [InlineData(@"a\*b", "\"a*b\"", true)]
    [InlineData(@"a\*b", "\"axxb\"", false)]
    [InlineData(@"C:\Windows\*", "\"C:\\\\Windows\\\\System32\"", false)]
    [InlineData(@"C:\Windows\*", "\"C:\\\\Windows*\"", true)]
    [InlineData(@"C:\Windows\\*", "\"C:\\\\Windows\\\\System32\"", true)]
    [InlineData(@"a\\*", "\"a\\\\anything\"", true)]
    [InlineData(@"a\\\*", "\"a\\\\*\"", true)]
    [InlineData(@"a\\\*", "\"a\\\\x\"", false)]
    [InlineData("4738", "4738", true)]
    [InlineData("true", "true", true)]
    [InlineData("''", "\"\"", true)]
    [InlineData("''", "\"x\"", false)]
    public void Plain_values_match_whole_case_insensitive_with_wildcards_and_escapes(string value, string fieldJson, bool expected)
    {
        var rule = Rule($"""
            sel:
                Field: {(value.StartsWith('\'') ? value : "'" + value + "'")}
            condition: sel
            """);
        Assert.Equal(expected, Match(rule, "\"Field\":" + fieldJson));
    }

    [Fact]
    public void Null_matches_a_missing_or_null_field_and_exists_checks_presence()
    {
        var isNull = Rule("sel:\n    Field: null\ncondition: sel");
        Assert.True(Match(isNull, "\"Other\":1"));
        Assert.True(Match(isNull, "\"Field\":null"));
        Assert.False(Match(isNull, "\"Field\":\"\""));

        var exists = Rule("sel:\n    Field|exists: true\ncondition: sel");
        Assert.True(Match(exists, "\"Field\":null"));
        Assert.False(Match(exists, "\"Other\":1"));
        var absent = Rule("sel:\n    Field|exists: false\ncondition: sel");
        Assert.True(Match(absent, "\"Other\":1"));

        Assert.Throws<SigmaException>(() => Rule("sel:\n    Field:\n        - ''\n        - null\ncondition: sel"));
    }

    [Fact]
    public void Position_modifiers_cased_all_and_neq()
    {
        Assert.True(Match(Rule("sel:\n    F|contains: 'MiMi'\ncondition: sel"), "\"F\":\"run mimikatz now\""));
        Assert.True(Match(Rule("sel:\n    F|startswith: 'adm'\ncondition: sel"), "\"F\":\"Administrator\""));
        Assert.False(Match(Rule("sel:\n    F|startswith: 'adm'\ncondition: sel"), "\"F\":\"sysadm\""));
        Assert.True(Match(Rule("sel:\n    F|endswith: '\\cmd.exe'\ncondition: sel"), "\"F\":\"C:\\\\Windows\\\\cmd.exe\""));
        Assert.False(Match(Rule("sel:\n    F|contains|cased: 'MiMi'\ncondition: sel"), "\"F\":\"mimi\""));
        Assert.True(Match(Rule("sel:\n    F|contains|cased: 'MiMi'\ncondition: sel"), "\"F\":\"xMiMix\""));

        var all = Rule("sel:\n    F|contains|all:\n        - ' -a '\n        - ' -b '\ncondition: sel");
        Assert.True(Match(all, "\"F\":\"x -b  -a y\""));
        Assert.False(Match(all, "\"F\":\"x -a y\""));
        var any = Rule("sel:\n    F|contains:\n        - ' -a '\n        - ' -b '\ncondition: sel");
        Assert.True(Match(any, "\"F\":\"x -a y\""));
        Assert.Throws<SigmaException>(() => Rule("sel:\n    F|contains|all: 'one'\ncondition: sel"));

        var neq = Rule("sel:\n    F|neq:\n        - a\n        - b\ncondition: sel");
        Assert.True(Match(neq, "\"F\":\"c\""));
        Assert.False(Match(neq, "\"F\":\"B\""));
        Assert.False(Match(neq, "\"G\":\"c\""));
    }

    [Fact]
    public void Windash_matches_every_dash_form()
    {
        var rule = Rule("sel:\n    F|windash|contains: ' -enc '\ncondition: sel");
        foreach (var dash in new[] { "-", "/", "\u2013", "\u2014", "\u2015" })
        {
            Assert.True(Match(rule, $"\"F\":\"powershell {dash}enc ZQB4AA==\""), dash);
        }
        Assert.False(Match(rule, "\"F\":\"powershell +enc x\""));
    }

    [Fact]
    public void Regex_is_case_sensitive_by_default_with_i_m_s_flags_and_refused_when_it_needs_backtracking()
    {
        Assert.True(Match(Rule("sel:\n    F|re: '^ab+c$'\ncondition: sel"), "\"F\":\"abbbc\""));
        Assert.False(Match(Rule("sel:\n    F|re: '^ab+c$'\ncondition: sel"), "\"F\":\"ABBC\""));
        Assert.True(Match(Rule("sel:\n    F|re|i: '^ab+c$'\ncondition: sel"), "\"F\":\"ABBC\""));
        Assert.True(Match(Rule("sel:\n    F|re|m: '^second$'\ncondition: sel"), "\"F\":\"first\\nsecond\""));
        Assert.False(Match(Rule("sel:\n    F|re: '^second$'\ncondition: sel"), "\"F\":\"first\\nsecond\""));
        Assert.True(Match(Rule("sel:\n    F|re|s: 'a.b'\ncondition: sel"), "\"F\":\"a\\nb\""));
        Assert.False(Match(Rule("sel:\n    F|re: 'a.b'\ncondition: sel"), "\"F\":\"a\\nb\""));

        var refused = Assert.Throws<SigmaException>(() => Rule("sel:\n    F|re: '(a)\\1'\ncondition: sel"));
        Assert.Contains("needs backtracking", refused.Message, StringComparison.Ordinal);
        Assert.Throws<SigmaException>(() => Rule("sel:\n    F|i: 'x'\ncondition: sel"));
    }

    [Fact]
    public void Base64_and_utf16_encodings_find_the_encoded_value()
    {
        Assert.True(Match(Rule("sel:\n    F|base64: 'http://'\ncondition: sel"), $"\"F\":\"{Convert.ToBase64String("http://"u8)}\""));
        var offset = Rule("sel:\n    F|base64offset|contains: 'http://'\ncondition: sel");
        foreach (var prefix in new[] { "", "a", "ab", "abc" })
        {
            var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix + "http://evil.example/x"));
            Assert.True(Match(offset, $"\"F\":\"powershell -enc {encoded}\""), prefix);
        }
        Assert.False(Match(offset, $"\"F\":\"{Convert.ToBase64String("https://ok"u8)}\""));

        var wide = Rule("sel:\n    F|wide|base64offset|contains: 'cmd'\ncondition: sel");
        Assert.True(Match(wide, $"\"F\":\"{Convert.ToBase64String(Encoding.Unicode.GetBytes("run cmd now"))}\""));
        var utf16be = Rule("sel:\n    F|utf16be|base64: 'cmd'\ncondition: sel");
        Assert.True(Match(utf16be, $"\"F\":\"{Convert.ToBase64String(Encoding.BigEndianUnicode.GetBytes("cmd"))}\""));
        var utf16 = Rule("sel:\n    F|utf16|base64: 'cmd'\ncondition: sel");
        Assert.True(Match(utf16, $"\"F\":\"{Convert.ToBase64String([0xFF, 0xFE, .. Encoding.Unicode.GetBytes("cmd")])}\""));
    }

    [Fact]
    public void Cidr_covers_ipv4_and_ipv6_networks()
    {
        var rule = Rule("sel:\n    ip|cidr:\n        - '10.0.0.0/8'\n        - 'fc00::/7'\ncondition: sel");
        Assert.True(Match(rule, "\"ip\":\"10.20.30.40\""));
        Assert.True(Match(rule, "\"ip\":\"fd12:3456::1\""));
        Assert.True(Match(rule, "\"ip\":\"::ffff:10.1.1.1\""));
        Assert.False(Match(rule, "\"ip\":\"11.0.0.1\""));
        Assert.False(Match(rule, "\"ip\":\"not-an-ip\""));
        Assert.Throws<SigmaException>(() => Rule("sel:\n    ip|cidr: '10.0.0.0/99'\ncondition: sel"));
    }

    [Fact]
    public void Numeric_and_time_modifiers_compare_values()
    {
        Assert.True(Match(Rule("sel:\n    n|gt: 10\ncondition: sel"), "\"n\":11"));
        Assert.False(Match(Rule("sel:\n    n|gt: 10\ncondition: sel"), "\"n\":10"));
        Assert.True(Match(Rule("sel:\n    n|gte: 10\ncondition: sel"), "\"n\":\"10\""));
        Assert.True(Match(Rule("sel:\n    n|lt: 1.5\ncondition: sel"), "\"n\":1"));
        Assert.True(Match(Rule("sel:\n    n|lte: 1\ncondition: sel"), "\"n\":1"));
        Assert.False(Match(Rule("sel:\n    n|lt: 5\ncondition: sel"), "\"n\":\"many\""));

        var night = Rule("sel:\n    when|hour|gte: 22\ncondition: sel");
        Assert.True(Match(night, "\"when\":\"2026-11-24T23:10:00Z\""));
        Assert.False(Match(night, "\"when\":\"2026-11-24T08:10:00Z\""));
        Assert.True(Match(Rule("sel:\n    when|month: 11\ncondition: sel"), "\"when\":\"2026-11-24T08:10:00Z\""));
        Assert.True(Match(Rule("sel:\n    when|week: 48\ncondition: sel"), "\"when\":\"2026-11-24T08:10:00Z\""));
        Assert.True(Match(Rule("sel:\n    when|year: 2026\ncondition: sel"), "\"when\":\"2026-11-24T08:10:00Z\""));
        Assert.True(Match(Rule("sel:\n    when|minute: 10\ncondition: sel"), "\"when\":\"2026-11-24T08:10:00Z\""));
        Assert.True(Match(Rule("sel:\n    when|day: 24\ncondition: sel"), "\"when\":\"2026-11-24T08:10:00Z\""));
    }

    [Fact]
    public void Fieldref_compares_two_fields_of_the_event()
    {
        var same = Rule("sel:\n    src|fieldref: dst\ncondition: sel");
        Assert.True(Match(same, "\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.1\""));
        Assert.False(Match(same, "\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\""));
        var different = Rule("sel:\n    src|fieldref|neq: dst\ncondition: sel");
        Assert.True(Match(different, "\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\""));
    }

    [Fact]
    public void Expand_replaces_configured_placeholders_and_refuses_unknown_ones()
    {
        var rule = Rule("sel:\n    user|expand: '%Admins%'\ncondition: sel");
        Assert.True(Match(rule, "\"user\":\"root\""));
        Assert.True(Match(rule, "\"user\":\"admin2\""));
        Assert.False(Match(rule, "\"user\":\"alice\""));
        Assert.False(Match(Rule("sel:\n    user: '%Admins%'\ncondition: sel"), "\"user\":\"root\""));
        var refused = Assert.Throws<SigmaException>(() => Rule("sel:\n    user|expand: '%Nobody%'\ncondition: sel"));
        Assert.Contains("%Nobody%", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_modifiers_are_refused_with_their_place()
    {
        var refused = Assert.Throws<SigmaException>(() => Rule("sel:\n    F|frobnicate: x\ncondition: sel"));
        Assert.Contains("unsupported modifier 'frobnicate'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(6, refused.Line);
    }

    [Fact]
    public void Keywords_search_every_string_value_or_all_of_them_with_the_all_modifier()
    {
        var any = Rule("keywords:\n    - 'event::clear'\n    - 'event::drop'\ncondition: keywords");
        Assert.True(Match(any, "\"message\":\"mimikatz # EVENT::Clear\""));
        Assert.True(Match(any, "\"nested\":{\"deep\":[\"x\",\"event::drop\"]}"));
        Assert.False(Match(any, "\"message\":\"event clear\""));

        var all = Rule("keywords_cmdlet:\n    '|all':\n        - 'OabVirtualDirectory'\n        - ' -ExternalUrl '\ncondition: keywords_cmdlet");
        Assert.True(Match(all, "\"a\":\"Set-OabVirtualDirectory\",\"b\":\"x -ExternalUrl y\""));
        Assert.False(Match(all, "\"a\":\"Set-OabVirtualDirectory\""));
    }

    [Fact]
    public void Maps_are_and_and_lists_of_maps_are_or()
    {
        var map = Rule("sel:\n    A: 1\n    B: 2\ncondition: sel");
        Assert.True(Match(map, "\"A\":1,\"B\":2"));
        Assert.False(Match(map, "\"A\":1,\"B\":3"));
        var list = Rule("sel:\n    - A: 1\n    - B: 2\ncondition: sel");
        Assert.True(Match(list, "\"B\":2"));
        Assert.False(Match(list, "\"C\":2"));
        Assert.True(Match(Rule("sel:\n    A:\n        - 1\n        - 2\ncondition: sel"), "\"A\":[5,2]"));
    }

    [Theory]
    [InlineData("a or b and c", false, true, false, false)]
    [InlineData("a or b and c", false, true, true, true)]
    [InlineData("(a or b) and c", true, false, false, false)]
    [InlineData("a or b and c", true, false, false, true)]
    [InlineData("not a and b", false, true, false, true)]
    [InlineData("not a and b", true, true, false, false)]
    [InlineData("not (a and b)", true, true, false, false)]
    [InlineData("not (a and b)", true, false, false, true)]
    [InlineData("1 of sel_* and not c", false, true, false, true)]
    [InlineData("all of sel_*", true, true, false, true)]
    [InlineData("all of sel_*", true, false, true, false)]
    [InlineData("1 of them", false, false, false, false)]
    [InlineData("1 of them", false, false, true, true)]
    [InlineData("all of them", true, true, true, true)]
    public void Conditions_follow_the_precedence_or_and_not_of_parentheses(string condition, bool a, bool b, bool c, bool expected)
    {
        // a = sel_a, b = sel_b, c = c; _hidden never matches and "them" must ignore it.
        var rule = Rule($"""
            sel_a:
                A: 'yes'
            sel_b:
                B: 'yes'
            c:
                C: 'yes'
            _hidden:
                H: 'never'
            condition: {condition.Replace("a or", "sel_a or", StringComparison.Ordinal).Replace("not a", "not sel_a", StringComparison.Ordinal).Replace("(a ", "(sel_a ", StringComparison.Ordinal).Replace(" b", " sel_b", StringComparison.Ordinal)}
            """);
        var json = $"\"A\":\"{(a ? "yes" : "no")}\",\"B\":\"{(b ? "yes" : "no")}\",\"C\":\"{(c ? "yes" : "no")}\"";
        Assert.Equal(expected, Match(rule, json));
    }

    [Fact]
    public void A_list_of_conditions_is_or_and_bad_conditions_are_refused()
    {
        var rule = Rule("a:\n    A: 1\nb:\n    B: 1\ncondition:\n    - a\n    - b");
        Assert.True(Match(rule, "\"B\":1"));
        Assert.Contains("not a search identifier", Assert.Throws<SigmaException>(() => Rule("a:\n    A: 1\ncondition: a and zz")).Message, StringComparison.Ordinal);
        Assert.Contains("deprecated", Assert.Throws<SigmaException>(() => Rule("a:\n    A: 1\ncondition: a | count() > 5")).Message, StringComparison.Ordinal);
        Assert.Contains("missing ')'", Assert.Throws<SigmaException>(() => Rule("a:\n    A: 1\ncondition: (a")).Message, StringComparison.Ordinal);
        Assert.Contains("matches no search identifier", Assert.Throws<SigmaException>(() => Rule("a:\n    A: 1\ncondition: 1 of x*")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fields_resolve_exact_key_first_then_dotted_path()
    {
        var rule = Rule("sel:\n    id.orig_h: '10.0.0.1'\n    userIdentity.type: Root\ncondition: sel");
        Assert.True(Match(rule, "\"id.orig_h\":\"10.0.0.1\",\"userIdentity\":{\"type\":\"Root\"}"));
        Assert.False(Match(rule, "\"id.orig_h\":\"10.0.0.2\",\"userIdentity\":{\"type\":\"Root\"}"));
    }

    [Fact]
    public void Logsource_must_cover_the_event_and_yaml_errors_name_line_and_column()
    {
        var rule = Rule("sel:\n    A: 1\ncondition: sel", logsource: "product: other");
        Assert.False(Match(rule, "\"A\":1"));

        var bad = Assert.Throws<SigmaException>(() => Compiler.Compile("title: x\n  bad: [\n"));
        Assert.Equal((2, 6), (bad.Line, bad.Column));
        Assert.Contains("unclosed", Assert.Throws<SigmaException>(() => Compiler.Compile("title: x\nlogsource: {product: a\ndetection: [")).Message, StringComparison.Ordinal);
        Assert.Contains("missing 'condition'", Assert.Throws<SigmaException>(() => Compiler.Compile("title: t\nlogsource:\n  product: a\ndetection:\n  sel:\n    A: 1\n")).Message, StringComparison.Ordinal);
        Assert.Contains("level", Assert.Throws<SigmaException>(() => Compiler.Compile("title: t\nlevel: severe\nlogsource:\n  product: a\ndetection:\n  sel:\n    A: 1\n  condition: sel\n")).Message, StringComparison.Ordinal);
    }
}
