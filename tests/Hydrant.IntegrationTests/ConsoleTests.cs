using System.Net;
using Microsoft.Playwright;
using SkiaSharp;

namespace Hydrant.IntegrationTests;

/// <summary>
/// The console as an analyst uses it, in a real browser (Debian's chromium driven by Playwright):
/// an alert raised by events the test ingests appears in the queue, is acknowledged, assigned and
/// closed in place, and a new one arrives live.
/// </summary>
[Collection("server")]
public sealed class ConsoleTests(ServerFixture fixture)
{
    private static readonly long NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static string Failures(string source) => string.Join('\n', Enumerable.Range(0, 10).Select(i =>
        $$"""{"id":"console-{{source}}-{{i}}","timestamp":{{NowMs - 90_000 + (i * 1000)}},"eventType":"auth.failure","sourceIP":"{{source}}","logsource":{"product":"hydrant","service":"auth"} }"""));

    [Fact]
    public async Task An_analyst_triages_a_real_alert_in_the_queue_and_sees_a_new_one_arrive_live()
    {
        using var client = Api.Client(fixture.Server.BaseUrl);
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Failures("198.51.100.120"))).Response.StatusCode);
        var id = (await TriageTests.OneAlertAsync(client, "sourceIP=198.51.100.120", "the brute force raised its alert")).GetProperty("id").GetString()!;

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.OpenAsync(fixture.Server.BaseUrl);

        var row = page.Locator($"tr[data-id='{id}']");
        await Assertions.Expect(row).ToContainTextAsync("SSH Brute Force");
        await Assertions.Expect(row).ToContainTextAsync("198.51.100.120");
        await Assertions.Expect(page.GetByTestId("live")).ToHaveTextAsync("live");
        await Assertions.Expect(page.GetByTestId("key-form")).ToBeHiddenAsync();

        // The queue filtered by time: from after the alert's last event it is gone, from before it, there.
        await page.GetByTestId("filter-from").FillAsync(DateTimeOffset.FromUnixTimeMilliseconds(NowMs - 60_000).ToString("O"));
        await page.GetByTestId("filter-from").PressAsync("Enter");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await page.GetByTestId("filter-from").FillAsync(DateTimeOffset.FromUnixTimeMilliseconds(NowMs - 120_000).ToString("O"));
        await page.GetByTestId("filter-from").PressAsync("Enter");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await page.GetByTestId("filter-from").FillAsync("");
        await page.GetByTestId("filter-since").SelectOptionAsync("3600");
        await Assertions.Expect(row).ToHaveCountAsync(1);

        // Selected, the alert shows the timeline of its group's events, and its events with what matched highlighted.
        // The click goes to the row itself: a click by position can land on another row when a late
        // alert of an earlier test arrives live and pushes the rows down (seen on a loaded machine).
        await row.DispatchEventAsync("click");
        await Assertions.Expect(row).ToHaveAttributeAsync("aria-selected", "true");
        try
        {
            await Assertions.Expect(page.GetByTestId("timeline-event")).ToHaveCountAsync(10);
        }
        catch (PlaywrightException e)
        {
            throw new InvalidOperationException($"no timeline; the console showed \"{await page.Locator("#error").TextContentAsync()}\", the API refused [{string.Join("; ", browser.Refusals)}]", e);
        }
        await Assertions.Expect(page.GetByTestId("timeline-summary")).ToHaveTextAsync("10 events over 9.0 s");
        await Assertions.Expect(page.GetByTestId("timeline-event").Nth(9)).ToContainTextAsync("+9.0 s");
        await Assertions.Expect(page.Locator("#timeline-strip .tick")).ToHaveCountAsync(10);
        await Assertions.Expect(page.GetByTestId("event")).ToHaveCountAsync(10);
        await Assertions.Expect(page.GetByTestId("rule")).ToContainTextAsync("T1110.001");
        var first = page.GetByTestId("event").First;
        await Assertions.Expect(first).ToContainTextAsync("matched Authentication Failure: selection");
        await Assertions.Expect(first.Locator("dd.matched")).ToHaveTextAsync("auth.failure");
        await Assertions.Expect(first.Locator("dt.matched")).ToHaveTextAsync("eventType");

        // Acknowledge and assign in place.
        await page.GetByTestId("assignee").FillAsync("sam");
        await page.GetByTestId("note").FillAsync("looking at it");
        await page.GetByTestId("acknowledge").ClickAsync();
        await Assertions.Expect(page.GetByTestId("history")).ToContainTextAsync("status acknowledged, assignee sam, note: looking at it");
        // The queue shows open alerts: acknowledged, it leaves; filtered by acknowledged, it is there.
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await page.GetByTestId("filter-status").SelectOptionAsync("acknowledged");
        await Assertions.Expect(row.Locator("td.assignee")).ToHaveTextAsync("sam");
        var (_, stored) = await Api.GetAsync(client, "v1/alerts/" + id);
        Assert.Equal(("acknowledged", "sam"), (stored.GetProperty("alert").GetProperty("status").GetString(), stored.GetProperty("alert").GetProperty("assignee").GetString()));

        // Close it with a resolution.
        await row.DispatchEventAsync("click");
        await page.GetByTestId("resolution").SelectOptionAsync("false_positive");
        await page.GetByTestId("close").ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);
        (_, stored) = await Api.GetAsync(client, "v1/alerts/" + id);
        Assert.Equal(("closed", "false_positive"), (stored.GetProperty("alert").GetProperty("status").GetString(), stored.GetProperty("alert").GetProperty("resolution").GetString()));

        // A new brute force appears in the open queue without a reload.
        await page.GetByTestId("filter-status").SelectOptionAsync("open");
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Failures("198.51.100.121"))).Response.StatusCode);
        await Assertions.Expect(page.Locator("tr[data-testid='alert-row']", new PageLocatorOptions { HasText = "198.51.100.121" })).ToHaveCountAsync(1);

        var screenshot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        // HYDRANT_CONSOLE_SCREENSHOT=docs/console.png refreshes the README's picture of the console.
        if (Environment.GetEnvironmentVariable("HYDRANT_CONSOLE_SCREENSHOT") is { Length: > 0 } keep)
        {
            await File.WriteAllBytesAsync(keep, screenshot);
        }
        using var image = SKBitmap.Decode(screenshot);
        var colours = new HashSet<SKColor>();
        for (var y = 0; y < image.Height; y += 4)
        {
            for (var x = 0; x < image.Width; x += 4)
            {
                colours.Add(image.GetPixel(x, y));
            }
        }
        Assert.True(colours.Count > 20, $"the screenshot has {colours.Count} colours: blank");
        // Still there: no late answer of a reload took the live row away.
        await Assertions.Expect(page.Locator("tr[data-testid='alert-row']", new PageLocatorOptions { HasText = "198.51.100.121" })).ToHaveCountAsync(1);
        Assert.Empty(browser.Errors);
    }

    [Fact]
    public async Task Events_are_searched_by_any_field_in_pages_and_one_is_shown_whole()
    {
        using var client = Api.Client(fixture.Server.BaseUrl);
        var body = string.Join('\n', Enumerable.Range(0, 130).Select(i =>
            $$"""{"id":"console-search-{{i}}","timestamp":{{NowMs - 60_000 + i}},"eventType":"shell","sourceIP":"198.51.100.123","user":"{{(i % 2 == 0 ? "mallory" : "alice")}}","cmd":{"line":"curl http://x/{{i}}"} }"""));
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, body)).Response.StatusCode);

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.OpenAsync(fixture.Server.BaseUrl + "/#events");
        await page.Locator("#search input[name=sourceIP]").FillAsync("198.51.100.123");
        await page.GetByTestId("search-fields").FillAsync("user=MALLORY\ncmd.line=curl*");
        await page.GetByTestId("search-submit").ClickAsync();

        // 65 of mallory's events: newest first, a page of the 50 the test server examines, then more.
        var rows = page.GetByTestId("event-row");
        await Assertions.Expect(rows.First).ToContainTextAsync("console-search-128");
        await Assertions.Expect(page.GetByTestId("search-plan")).ToContainTextAsync("examined");
        while (await page.GetByTestId("more").IsVisibleAsync())
        {
            var shown = await rows.CountAsync();
            await page.GetByTestId("more").ClickAsync();
            await Assertions.Expect(rows).Not.ToHaveCountAsync(shown);
        }
        await Assertions.Expect(rows).ToHaveCountAsync(65);
        Assert.Equal(Enumerable.Range(0, 65).Select(i => $"console-search-{128 - (2 * i)}"), (await rows.Locator("td:nth-child(4)").AllTextContentsAsync()));

        await rows.Nth(3).ClickAsync();
        await Assertions.Expect(page.GetByTestId("event-json")).ToContainTextAsync("\"line\": \"curl http://x/122\"");

        await page.GetByTestId("search-fields").FillAsync("no equals sign");
        await page.GetByTestId("search-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("error")).ToContainTextAsync("is not NAME=VALUE");
    }

    [Fact]
    public async Task The_pipeline_view_draws_its_charts_and_says_how_the_partitions_and_backends_stand()
    {
        using var client = Api.Client(fixture.Server.BaseUrl);
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Failures("198.51.100.124"))).Response.StatusCode);
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.OpenAsync(fixture.Server.BaseUrl + "/#pipeline");
        await Assertions.Expect(page.GetByTestId("pipeline-summary")).ToContainTextAsync("partition heat");
        await Assertions.Expect(page.GetByTestId("pipeline-summary")).ToContainTextAsync("spool healthy");
        await Assertions.Expect(page.GetByTestId("pipeline-summary")).ToContainTextAsync("detector");
        // The hottest keys: the shard of 198.51.100.124 has written events.
        var shard = Hydrant.Keys.SourceShard.Main(Hydrant.Keys.SourceShard.Hash("198.51.100.124"));
        await Assertions.Expect(page.Locator("tr[data-testid='hot-key']", new PageLocatorOptions { HasText = $"#{shard}" }).First).ToBeVisibleAsync();
        foreach (var series in new[] { "ingest", "consumers", "lag", "alerts", "spool", "alerts-per-hour", "heat" })
        {
            var chart = page.GetByTestId("chart-" + series);
            await Assertions.Expect(chart).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^blob:"));
            await page.WaitForFunctionAsync("image => image.complete && image.naturalWidth > 0", await chart.ElementHandleAsync());
        }
        Assert.Empty(browser.Errors);
    }

    [Fact]
    public async Task Rules_show_what_was_refused_and_the_attack_coverage_and_reports_are_built_listed_and_shown()
    {
        using var data = new TempDirectory();
        var rules = data.File("rules");
        Directory.CreateDirectory(rules);
        await File.WriteAllTextAsync(Path.Combine(rules, "spray.yml"), """
            title: Password Spray Seen
            id: 0f4c1d52-5b8e-4a57-9d0a-3c6f1e2b7a10
            description: Many accounts fail from one source.
            status: test
            tags: [attack.credential-access, attack.t1110.003]
            logsource: { product: hydrant, service: auth }
            detection:
              selection: { eventType: auth.spray }
              condition: selection
            level: high
            """);
        await File.WriteAllTextAsync(Path.Combine(rules, "broken.yml"), "title: Broken\nid: 5d1f0b0e-8f0a-4a3e-9a53-0b5c1c2d3e4f\nlogsource: { product: x }\ndetection:\n  condition: missing_selection\n");
        await using var server = await HydrantProcess.ServeAsync(data.File("db"), ["--rules", rules]);
        using var client = Api.Client(server.BaseUrl);
        var yesterday = DateTimeOffset.UtcNow.Date.AddDays(-1);
        var noon = new DateTimeOffset(yesterday, TimeSpan.Zero).AddHours(12).ToUnixTimeMilliseconds();
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, string.Join('\n', Enumerable.Range(0, 30).Select(i =>
            $$"""{"id":"report-{{i}}","timestamp":{{noon + (i * 60_000)}},"eventType":"{{(i % 3 == 0 ? "auth.spray" : "dns.query")}}","sourceIP":"198.51.100.{{130 + (i % 4)}}","logsource":{"product":"hydrant","service":"auth"} }""")))).Response.StatusCode);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("consumers").EnumerateArray().All(c => c.GetProperty("lagEvents").GetInt64() == 0),
            "the detector and the loader have caught up", TimeSpan.FromSeconds(60));

        await using var browser = await ConsoleBrowser.LaunchAsync();

        // Rules: the refused one with its reason; the loaded one under its tactic in the matrix.
        var page = await browser.OpenAsync(server.BaseUrl + "/#rules", height: 900);
        await Assertions.Expect(page.GetByTestId("rules-summary")).ToContainTextAsync("1 refused");
        await Assertions.Expect(page.GetByTestId("refused-row")).ToContainTextAsync("broken.yml");
        await Assertions.Expect(page.GetByTestId("refused-row")).ToContainTextAsync("missing_selection");
        var tactic = page.Locator("td[data-tactic='credential-access']");
        await Assertions.Expect(tactic.GetByTestId("attack-technique").Filter(new LocatorFilterOptions { HasText = "T1110.003" })).ToHaveTextAsync("T1110.003 (1)");
        await tactic.GetByTestId("attack-technique").Filter(new LocatorFilterOptions { HasText = "T1110.003" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("rule-row")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("rule-row")).ToContainTextAsync("Password Spray Seen");
        await page.GetByTestId("rule-row").ClickAsync();
        await Assertions.Expect(page.GetByTestId("rule-yaml")).ToContainTextAsync("selection: { eventType: auth.spray }");
        await Assertions.Expect(page.GetByTestId("rule-detail")).ToContainTextAsync("Many accounts fail from one source.");

        // Reports: yesterday's built from the console, then listed, and shown from the list.
        await page.GotoAsync(server.BaseUrl + "/#reports");
        await Assertions.Expect(page.GetByTestId("build-date")).ToHaveValueAsync(yesterday.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByTestId("build").ClickAsync();
        await Assertions.Expect(page.GetByTestId("report-summary")).ToContainTextAsync("30 events, ");
        await Assertions.Expect(page.GetByTestId("report-rule")).ToContainTextAsync("Password Spray Seen (0f4c1d52-5b8e-4a57-9d0a-3c6f1e2b7a10)");
        var listed = page.GetByTestId("report-row");
        await Assertions.Expect(listed).ToHaveCountAsync(1);
        await Assertions.Expect(listed).ToContainTextAsync("30");
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("report")).ToBeHiddenAsync();
        await listed.ClickAsync();
        await Assertions.Expect(page.GetByTestId("report-summary")).ToContainTextAsync("30 events");
        await Assertions.Expect(page.Locator("#report-hours li")).ToHaveCountAsync(24);
        Assert.Empty(browser.Errors);
    }

    [Fact]
    public async Task What_enrichment_knew_shows_on_alerts_events_the_pipeline_and_the_report()
    {
        using var data = new TempDirectory();
        await File.WriteAllTextAsync(data.File("watch.netset"), "203.0.113.0/24\n");
        await using var server = await HydrantProcess.ServeAsync(data.File("db"), [
            "--Hydrant:Enrichment:GeoIp:City=" + Hydrant.Tests.Corpus.Path("geoip", "maxmind-test-data", "test-data", "GeoIP2-City-Test.mmdb"),
            "--Hydrant:Enrichment:Intel:Lists:0:Name=watch", "--Hydrant:Enrichment:Intel:Lists:0:Path=" + data.File("watch.netset"),
            "--Hydrant:Enrichment:Intel:Lists:0:Level=high"]);
        using var client = Api.Client(server.BaseUrl);
        var at = NowMs - 600_000;
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, string.Join('\n',
            $$"""{"id":"enriched-london","timestamp":{{at}},"eventType":"net.connection","sourceIP":"81.2.69.142","logsource":{"product":"hydrant","service":"net"} }""",
            $$"""{"id":"enriched-listed","timestamp":{{at + 1000}},"eventType":"net.connection","sourceIP":"203.0.113.9","logsource":{"product":"hydrant","service":"net"} }"""))).Response.StatusCode);
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/stats")).Body.GetProperty("consumers").EnumerateArray().All(c => c.GetProperty("lagEvents").GetInt64() == 0),
            "the detector and the loader have caught up", TimeSpan.FromSeconds(60));

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.OpenAsync(server.BaseUrl, height: 900);
        var alert = page.Locator("tr[data-id]", new PageLocatorOptions { HasText = "Connection From a Listed Address" });
        await Assertions.Expect(alert).ToContainTextAsync("high");
        await alert.DispatchEventAsync("click");
        await Assertions.Expect(page.GetByTestId("alert-event-enrichment")).ToHaveTextAsync("203.0.113.9: on watch; intel level high");

        await page.GotoAsync(server.BaseUrl + "/#events");
        await page.Locator("#search input[name=sourceIP]").FillAsync("81.2.69.142");
        await page.GetByTestId("search-submit").ClickAsync();
        await page.GetByTestId("event-row").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("stored-event-enrichment")).ToHaveTextAsync("81.2.69.142: GB London");

        await page.GotoAsync(server.BaseUrl + "/#pipeline");
        await Assertions.Expect(page.GetByTestId("enrichment-summary")).ToContainTextAsync("GeoIP: GeoIP2-City (0 failed lookups); 1 intel lists");
        await Assertions.Expect(page.GetByTestId("intel-list")).ToHaveTextAsync("watchfilehigh101");

        await page.GotoAsync(server.BaseUrl + "/#reports");
        await page.GetByTestId("build-date").FillAsync(DateTimeOffset.FromUnixTimeMilliseconds(at).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByTestId("build").ClickAsync();
        await Assertions.Expect(page.GetByTestId("report-intel-match")).ToHaveTextAsync("watch11");
        await Assertions.Expect(page.Locator("#report-countries")).ToContainTextAsync("United Kingdom (GB)");
        Assert.Empty(browser.Errors);
    }

    [Fact]
    public async Task With_api_keys_the_console_asks_for_one_and_sends_it_as_a_bearer_header()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path, environment: new Dictionary<string, string>
        {
            ["Hydrant__Auth__Keys__0__Key"] = "console-key-0123456789",
            ["Hydrant__Auth__Keys__0__Scopes__0"] = "admin",
        });
        using (var ingest = Api.Client(server.BaseUrl, "console-key-0123456789"))
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(ingest, Failures("198.51.100.122"))).Response.StatusCode);
            await TriageTests.OneAlertAsync(ingest, "sourceIP=198.51.100.122", "the brute force raised its alert");
        }

        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.OpenAsync(server.BaseUrl);
        await Assertions.Expect(page.GetByTestId("key-form")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("error")).ToContainTextAsync("API key");
        await page.Locator("#key").FillAsync("console-key-0123456789");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Use key" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-testid='alert-row']", new PageLocatorOptions { HasText = "198.51.100.122" })).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("key-form")).ToBeHiddenAsync();
        // Kept for the tab, never in a cookie.
        Assert.Equal("console-key-0123456789", await page.EvaluateAsync<string>("sessionStorage.getItem('hydrant.key')"));
        Assert.Empty(await page.Context.CookiesAsync());
    }

    [Fact]
    public async Task The_console_is_served_by_the_node_itself_with_a_policy_that_allows_nothing_from_elsewhere()
    {
        using var client = Api.Client(fixture.Server.BaseUrl);
        using var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("console/app.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("console/../appsettings.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("console/secret.js")).StatusCode);
    }
}
