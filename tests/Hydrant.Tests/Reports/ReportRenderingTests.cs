using Hydrant.Reports;
using Hydrant.Server.Reports;

namespace Hydrant.Tests.Reports;

public sealed class ReportRenderingTests
{
    private static DailyReport Report(string type = "auth.failure") => new(
        "2026-11-23",
        30,
        new Dictionary<string, long> { [type] = 20, ["dns.query"] = 10 },
        [.. Enumerable.Range(0, 24).Select(h => h == 5 ? 30L : 0L)],
        [new SourceCount("198.51.100.7", 25), new SourceCount("2001:db8::1", 5)],
        [.. Enumerable.Range(0, 120).Select(i => $"10.0.0.{i}")],
        new AlertFigures(3, new Dictionary<string, long> { ["ssh-brute-force"] = 3 }, new Dictionary<string, long> { ["high"] = 3 })
        {
            RuleTitles = new Dictionary<string, string> { ["ssh-brute-force"] = "SSH Brute Force" },
        },
        DailyReport.HeatOf([.. Enumerable.Range(0, 100).Select(i => i == 0 ? 30L : 0L)]));

    [Fact]
    public void Json_has_the_contract_shape_and_reads_back()
    {
        var json = Report().ToJson();
        Assert.StartsWith("""{"date":"2026-11-23","totalEvents":30,"byType":{"auth.failure":20,"dns.query":10},"byHour":[0,0,0,0,0,30,""", json, StringComparison.Ordinal);
        Assert.Contains("\"topSources\":[{\"sourceIP\":\"198.51.100.7\",\"count\":25},", json, StringComparison.Ordinal);
        Assert.Contains("\"alerts\":{\"total\":3,\"byRule\":{\"ssh-brute-force\":3},\"byLevel\":{\"high\":3},\"ruleTitles\":{\"ssh-brute-force\":\"SSH Brute Force\"}},\"partitionHeat\":{\"shards\":[30,0,", json, StringComparison.Ordinal);
        Assert.EndsWith("\"maxOverMean\":100},\"enrichment\":{\"topCountries\":[],\"topNetworks\":[],\"intelMatches\":[]}}", json, StringComparison.Ordinal);
        Assert.Equal(json, DailyReport.FromJson(json).ToJson());
    }

    [Fact]
    public void Html_is_one_page_with_four_charts_and_no_markup_from_the_data()
    {
        var html = HtmlReport.Render(Report("<script>alert(1)</script>"));
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(4, html.Split("<svg").Length - 1);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<?xml", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal); // nothing fetched
        Assert.Contains("and 20 more", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_lists_every_figure_as_tables()
    {
        var markdown = MarkdownReport.Render(Report("a|b"));
        Assert.Contains("# Hydrant daily report 2026-11-23 (UTC)", markdown, StringComparison.Ordinal);
        Assert.Contains("| a\\|b | 20 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 05:00 | 30 |", markdown, StringComparison.Ordinal);
        // Rules by title, the id beside it for when two share one.
        Assert.Contains("| SSH Brute Force (ssh-brute-force) | 3 |", markdown, StringComparison.Ordinal);
        Assert.Contains("- and 20 more", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void What_enrichment_knew_of_the_sources_is_shown_when_there_is_some_and_reads_back()
    {
        var report = Report() with
        {
            Enrichment = new EnrichmentFigures(
                [new CountryCount("GB", "United Kingdom", 25)],
                [new NetworkCount(1221, "Telstra | <b>Pty</b>", 25)],
                [new IntelMatch("feodo", 25, 1)]),
        };
        Assert.Equal(report.ToJson(), DailyReport.FromJson(report.ToJson()).ToJson());
        var markdown = MarkdownReport.Render(report);
        Assert.Contains("| United Kingdom (GB) | 25 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| AS1221 Telstra \\| &lt;b&gt;Pty&lt;/b&gt; | 25 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| feodo | 25 | 1 |", markdown, StringComparison.Ordinal);
        var html = HtmlReport.Render(report);
        Assert.Contains("<td>feodo (1 sources)</td><td class=\"n\">25</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Pty", html, StringComparison.Ordinal);
        // A day without enrichment shows none of it.
        Assert.DoesNotContain("Intel matches", MarkdownReport.Render(Report()), StringComparison.Ordinal);
    }

    [Fact]
    public void Names_from_events_cannot_break_a_markdown_table_or_inject_links_or_html()
    {
        var markdown = MarkdownReport.Render(Report("x\n| injected | 1 |\n[click](https://evil.example) <img src=x> *bold* `code`"));
        var line = markdown.Split('\n').Single(l => l.Contains("injected", StringComparison.Ordinal));
        Assert.Equal("| x \\| injected \\| 1 \\| \\[click\\](https://evil.example) &lt;img src=x&gt; \\*bold\\* \\`code\\` | 20 |", line);
        Assert.DoesNotContain("<img", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Slack_text_puts_event_fields_in_code_spans_so_mentions_and_links_do_nothing()
    {
        var alert = Hydrant.Detection.Alerts.Alert.Raise("r", "Title <!here>", "high", "user=<!channel>",
            [new Hydrant.Detection.Alerts.AlertEvent("e1", "2026-11-24T00:00:00.000Z", "<https://evil.example|click>", "`x` <@U123>")], 1, 0, 0);
        var text = Hydrant.Server.Alerts.WebhookSink.SlackText(alert);
        Assert.DoesNotContain("<", text, StringComparison.Ordinal);
        Assert.Contains("Title &lt;!here&gt;", text, StringComparison.Ordinal);
        Assert.Contains("`&lt;https://evil.example|click&gt;`", text, StringComparison.Ordinal);
        Assert.Contains("from `'x' &lt;@U123&gt;`", text, StringComparison.Ordinal);
        Assert.Contains("(group `user=&lt;!channel&gt;`)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_answers_neutralise_cells_a_spreadsheet_would_run_as_formulas()
    {
        var answer = new Hydrant.Analytics.QueryAnswer(["user", "n"], [["=HYPERLINK(\"http://evil\")", -5L], ["@SUM(1)", 1L], ["+1", 2L], ["-1", 3L], ["plain", 4L]], Hydrant.Analytics.QueryLimit.None);
        var lines = Hydrant.Server.Api.AnalyticsEndpoints.Csv(answer).Split("\r\n");
        Assert.Equal("\"'=HYPERLINK(\"\"http://evil\"\")\",-5", lines[1]);
        Assert.Equal("'@SUM(1),1", lines[2]);
        Assert.Equal("'+1,2", lines[3]);
        Assert.Equal("'-1,3", lines[4]);
        Assert.Equal("plain,4", lines[5]);
    }

    [Theory]
    [InlineData("2026-11-24T00:10:00Z", "00:15", 300)]
    [InlineData("2026-11-24T00:15:00Z", "00:15", 86_400)]
    [InlineData("2026-11-24T23:00:00Z", "00:15", 4_500)]
    public void The_next_scheduled_build_is_the_next_time_of_day_never_now(string now, string at, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ReportScheduler.UntilNext(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), TimeOnly.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));
}
