using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Hydrant.IntegrationTests;

/// <summary>The analyst's loop over HTTP: an alert raised by ingested events is acknowledged, assigned, noted and closed, with its history, filters and conflicts.</summary>
[Collection("server")]
public sealed class TriageTests(ServerFixture fixture)
{
    private static readonly long NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private HttpClient Client() => Api.Client(fixture.Server.BaseUrl);

    private static string Failures(string source, int from, int count) => string.Join('\n', Enumerable.Range(from, count).Select(i =>
        $$"""{"id":"triage-{{source}}-{{i}}","timestamp":{{NowMs - 120_000 + (i * 1000)}},"eventType":"auth.failure","sourceIP":"{{source}}","logsource":{"product":"hydrant","service":"auth"} }"""));

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> PatchAsync(HttpClient client, string id, object change, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "v1/alerts/" + id) { Content = new StringContent(JsonSerializer.Serialize(change), Encoding.UTF8, "application/json") };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(ifMatch));
        }
        var response = await client.SendAsync(request);
        return (response, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    public static async Task<JsonElement> OneAlertAsync(HttpClient client, string query, string because)
    {
        JsonElement found = default;
        await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/alerts?" + query)).Body.GetProperty("alerts") is { } alerts
            && alerts.GetArrayLength() == 1 && (found = alerts[0].Clone()).ValueKind == JsonValueKind.Object, because);
        return found;
    }

    [Fact]
    public async Task An_alert_is_acknowledged_assigned_noted_and_closed_with_its_history_and_a_repeat_opens_a_new_one()
    {
        using var client = Client();
        const string Source = "198.51.100.111";
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Failures(Source, 0, 10))).Response.StatusCode);
        var alert = await OneAlertAsync(client, $"sourceIP={Source}&status=open", "the brute force raised an open alert");
        var id = alert.GetProperty("id").GetString()!;
        Assert.Equal(("open", 0L), (alert.GetProperty("status").GetString(), alert.GetProperty("version").GetInt64()));

        var (acked, ack) = await PatchAsync(client, id, new { status = "acknowledged", assignee = "sam", note = "looking", version = 0 });
        Assert.Equal(HttpStatusCode.OK, acked.StatusCode);
        Assert.Equal("\"1\"", acked.Headers.ETag?.Tag);
        Assert.Equal(("acknowledged", "sam", 1L), (ack.GetProperty("status").GetString(), ack.GetProperty("assignee").GetString(), ack.GetProperty("version").GetInt64()));
        var change = Assert.Single(ack.GetProperty("history").EnumerateArray());
        Assert.Equal(("open", "acknowledged", "sam", "looking"), (change.GetProperty("by").GetString(), change.GetProperty("changes").GetProperty("status").GetString(),
            change.GetProperty("changes").GetProperty("assignee").GetString(), change.GetProperty("note").GetString()));

        // Another analyst who read version 0 does not overwrite the first.
        var (stale, conflict) = await PatchAsync(client, id, new { assignee = "kim" }, ifMatch: "\"0\"");
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal(1, conflict.GetProperty("alert").GetProperty("version").GetInt64());

        Assert.Contains("resolution", (await PatchAsync(client, id, new { status = "closed" })).Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await PatchAsync(client, id, new { status = "done" })).Response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PatchAsync(client, id, new { status = "closed", resolution = "maybe" })).Response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PatchAsync(client, id, new { priority = "high" })).Response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PatchAsync(client, id, new { })).Response.StatusCode);
        // A resolution for an alert that is not closed, alone or beside another status: refused by the state, nothing kept.
        var (notClosed, why) = await PatchAsync(client, id, new { resolution = "benign" });
        Assert.Equal((HttpStatusCode.BadRequest, "a resolution is given only when closing"), (notClosed.StatusCode, why.GetProperty("detail").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, (await PatchAsync(client, id, new { status = "open", resolution = "benign" })).Response.StatusCode);
        Assert.Equal(1, (await Api.GetAsync(client, "v1/alerts/" + id)).Body.GetProperty("alert").GetProperty("version").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await PatchAsync(client, "01ARZ3NDEKTSV4RRFFQ69G5FAV", new { status = "acknowledged" })).Response.StatusCode);

        Assert.Equal(id, (await OneAlertAsync(client, $"sourceIP={Source}&assignee=sam&status=acknowledged", "the filters find the acknowledged alert")).GetProperty("id").GetString());

        // The live stream shows the alert growing with its triage.
        using (var live = await LiveAlerts.OpenAsync(fixture.Server.BaseUrl))
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Failures(Source, 100, 2))).Response.StatusCode);
            JsonElement grown;
            do
            {
                grown = await live.NextAsync();
            }
            while (grown.GetProperty("id").GetString() != id || grown.GetProperty("count").GetInt32() < 12);
            Assert.Equal(("acknowledged", "sam"), (grown.GetProperty("status").GetString(), grown.GetProperty("assignee").GetString()));
        }
        var (closed, close) = await PatchAsync(client, id, new { status = "closed", resolution = "true_positive", version = 1 });
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal(("closed", "true_positive"), (close.GetProperty("status").GetString(), close.GetProperty("resolution").GetString()));

        var (_, shown) = await Api.GetAsync(client, "v1/alerts/" + id);
        Assert.Equal(2, shown.GetProperty("alert").GetProperty("history").GetArrayLength());
        Assert.Equal("true_positive", shown.GetProperty("alert").GetProperty("history")[1].GetProperty("changes").GetProperty("resolution").GetString());
        Assert.Equal("closed", shown.GetProperty("alert").GetProperty("status").GetString());

        // The same source fails again: a new open alert, the closed one unchanged.
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, Failures(Source, 10, 10))).Response.StatusCode);
        var reopened = await OneAlertAsync(client, $"sourceIP={Source}&status=open", "a repeat after the close opened a new alert");
        Assert.NotEqual(id, reopened.GetProperty("id").GetString());
        var kept = await OneAlertAsync(client, $"sourceIP={Source}&status=closed", "the closed alert is still closed");
        Assert.Equal(12, kept.GetProperty("count").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(client, "v1/alerts?status=done")).Response.StatusCode);
    }
}
