using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Hydrant.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.IntegrationTests;

/// <summary>Alerts delivered to webhooks on a real HTTP receiver on 127.0.0.1, which fails at first.</summary>
public sealed class WebhookTests
{
    private static async Task<(WebApplication App, string Url)> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    [Fact]
    public async Task Alerts_reach_json_and_slack_webhooks_through_failures()
    {
        var json = new ConcurrentQueue<string>();
        var slack = new ConcurrentQueue<string>();
        var attempts = 0;
        var receiverBuilder = WebApplication.CreateSlimBuilder();
        receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = receiverBuilder.Build();
        receiver.MapPost("/hook", async (HttpContext context) =>
        {
            // The first two deliveries fail: the dispatcher must retry.
            if (Interlocked.Increment(ref attempts) <= 2)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }
            json.Enqueue(await new StreamReader(context.Request.Body).ReadToEndAsync());
            return Results.Ok();
        });
        receiver.MapPost("/slack", async (HttpContext context) =>
        {
            slack.Enqueue(await new StreamReader(context.Request.Body).ReadToEndAsync());
            return Results.Ok();
        });
        var (receiverApp, receiverUrl) = await StartAsync(receiver);
        await using var _ = receiverApp;

        using var data = new TempDirectory();
        var rules = Path.Combine(data.Path, "rules");
        Directory.CreateDirectory(rules);
        await File.WriteAllTextAsync(Path.Combine(rules, "r.yml"), """
            title: Webhook Test Rule
            id: 7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9
            logsource:
                product: test
            detection:
                selection:
                    action: exfiltrate
                condition: selection
            level: high
            """);
        var (hydrant, hydrantUrl) = await StartAsync(HydrantHost.Build([
            "--urls=http://127.0.0.1:0",
            $"--Hydrant:Data={Path.Combine(data.Path, "db")}",
            $"--Hydrant:Rules={rules}",
            $"--Hydrant:Alerts:Webhooks:0:Url={receiverUrl}/hook",
            $"--Hydrant:Alerts:Webhooks:1:Url={receiverUrl}/slack",
            "--Hydrant:Alerts:Webhooks:1:Format=slack",
        ]));
        await using var __ = hydrant;
        using var client = Api.Client(hydrantUrl);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        var (posted, _) = await Api.PostAsync(client, $$"""{"id":"w-1","timestamp":{{ts}},"eventType":"net","sourceIP":"198.51.100.80","logsource":{"product":"test"},"action":"exfiltrate"}""");
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);

        await Eventually.TrueAsync(() => Task.FromResult(!json.IsEmpty && !slack.IsEmpty), "both webhooks received the alert");
        var alert = JsonDocument.Parse(Assert.Single(json)).RootElement;
        Assert.Equal("Webhook Test Rule", alert.GetProperty("title").GetString());
        Assert.Equal("w-1", alert.GetProperty("events")[0].GetProperty("id").GetString());
        Assert.Equal(3, attempts);
        var text = JsonDocument.Parse(Assert.Single(slack)).RootElement.GetProperty("text").GetString();
        Assert.Contains("[high] Webhook Test Rule", text, StringComparison.Ordinal);
        Assert.Contains("198.51.100.80", text, StringComparison.Ordinal);
        await hydrant.StopAsync();
        await receiverApp.StopAsync();
    }

    [Fact]
    public void A_webhook_url_that_is_not_http_is_refused_at_start()
    {
        using var data = new TempDirectory();
        var error = Assert.Throws<HydrantHost.ConfigurationException>(() => HydrantHost.Build([
            "--urls=http://127.0.0.1:0", $"--Hydrant:Data={data.Path}", "--Hydrant:Alerts:Webhooks:0:Url=ftp://example.invalid/x"]));
        Assert.Contains("not an http(s) URL", error.Message, StringComparison.Ordinal);
    }
}
