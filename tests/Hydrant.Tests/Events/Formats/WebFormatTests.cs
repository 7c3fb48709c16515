using System.Text.Json;
using System.Text.RegularExpressions;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events.Formats;

public sealed class WebFormatTests
{
    private static readonly ParseOptions Web = new() { Format = InputFormat.Web };
    private static readonly EventParser Parser = new(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));

    [Fact]
    public void Every_line_of_the_apache_access_log_ingests_with_webserver_fields()
    {
        var path = Corpus.Path("logs", "web-apache-access-elastic", "apache_logs.2015-05-17.log");
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToList();
        using var batch = Parser.Parse(File.ReadAllBytes(path), Web);

        Assert.Empty(batch.Rejections);
        Assert.Equal(lines.Count, batch.Events.Count);
        // 83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/.../kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/..." "Mozilla/5.0 ..."
        var first = batch.Events[0];
        var json = JsonDocument.Parse(first.Json).RootElement;
        Assert.Equal("83.149.9.216", first.SourceIP);
        Assert.Equal("http.request", first.EventType);
        Assert.Equal(new DateTimeOffset(2015, 5, 17, 10, 5, 3, TimeSpan.Zero).ToUnixTimeMilliseconds(), first.TimestampMs);
        Assert.Equal("webserver", json.GetProperty("logsource").GetProperty("category").GetString());
        Assert.Equal("GET", json.GetProperty("cs-method").GetString());
        Assert.Equal("png", json.GetProperty("c-uri-extension").GetString());
        Assert.Equal(200, json.GetProperty("sc-status").GetInt32());
        Assert.Equal(203023, json.GetProperty("sc-bytes").GetInt64());
        Assert.StartsWith("Mozilla/5.0", json.GetProperty("c-useragent").GetString(), StringComparison.Ordinal);
        Assert.Equal(lines[0], json.GetProperty("message").GetString());

        var withQuery = lines.Count(l => Regex.IsMatch(l, "\"[A-Z]+ [^ \"]*\\?[^ \"]* HTTP"));
        Assert.Equal(withQuery, batch.Events.Count(e => JsonDocument.Parse(e.Json).RootElement.TryGetProperty("cs-uri-query", out _)));
    }

    [Fact]
    public void Offsets_are_applied_and_bad_lines_are_rejected()
    {
        using var batch = Parser.Parse("""
            10.0.0.1 - alice [24/Nov/2026:01:00:00 +0100] "POST /login?next=%2F HTTP/1.1" 302 - "-" "curl/8.5.0"
            10.0.0.2 - - [23/Nov/2026:01:00:00 +0000] "\x16\x03\x01" 400 226
            not an access log line
            10.0.0.3 - - [31/Feb/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1
            """u8, Web);
        Assert.Equal(2, batch.Events.Count);
        var login = JsonDocument.Parse(batch.Events[0].Json).RootElement;
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), batch.Events[0].TimestampMs);
        Assert.Equal("alice", login.GetProperty("cs-username").GetString());
        Assert.Equal("next=%2F", login.GetProperty("cs-uri-query").GetString());
        Assert.False(login.TryGetProperty("sc-bytes", out _));
        Assert.False(login.TryGetProperty("cs-referer", out _));
        Assert.Equal("\\x16\\x03\\x01", JsonDocument.Parse(batch.Events[1].Json).RootElement.GetProperty("c-uri").GetString());
        Assert.Equal([2, 3], batch.Rejections.Select(r => r.Index));
    }

    [Fact]
    public void Sigmahq_web_rules_compile_and_run_on_access_log_events()
    {
        var compiler = new SigmaCompiler(SigmaOptions.Default);
        var rules = Directory.GetFiles(Corpus.Path("sigma", "rules", "web"), "*.yml", SearchOption.AllDirectories)
            .Select(f => compiler.Compile(File.ReadAllText(f))).Where(r => r.Logsource.Category == "webserver").ToList();
        Assert.NotEmpty(rules);
        using var batch = Parser.Parse(
            "203.0.113.7 - - [24/Nov/2026:00:00:00 +0000] \"GET /index.php?id=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1\" 200 512 \"-\" \"sqlmap/1.8\"\n"u8, Web);
        using var view = new EventView(Assert.Single(batch.Events).Json);
        Assert.Contains(rules, r => r.Matches(view));
    }
}
