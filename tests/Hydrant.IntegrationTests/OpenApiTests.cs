using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Hydrant.IntegrationTests;

/// <summary>
/// The OpenAPI document describes what the API really answers: a real answer of every endpoint,
/// on success and on a refusal, is checked (JsonSchema.Net) against the schema the document gives
/// for its path, method, status and content type, with every object closed (a field the document
/// does not name fails), so the document cannot drift from the answers.
/// </summary>
[Collection("server")]
public sealed class OpenApiTests(ServerFixture fixture)
{
    private static readonly long NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private const string Rule = """
        title: OpenAPI Probe
        id: 6a0f3f7e-2c1b-4d5e-9f80-1a2b3c4d5e6f
        logsource: { product: hydrant }
        detection:
          selection: { eventType: openapi.probe }
          condition: selection
        level: low
        """;

    [Fact]
    public async Task Every_endpoint_answers_in_the_shape_its_openapi_document_gives_on_success_and_on_refusal()
    {
        using var client = Api.Client(fixture.Server.BaseUrl);
        var document = JsonNode.Parse(await client.GetStringAsync("openapi/v1.json"))!.AsObject();
        var checkedOperations = new HashSet<string>(StringComparer.Ordinal);

        async Task<JsonElement> CheckAsync(HttpMethod method, string path, string template, HttpStatusCode expected, HttpContent? body = null, string? ifMatch = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body };
            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
            checkedOperations.Add($"{method.Method.ToUpperInvariant()} {template}");
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                Assert.NotNull(document["paths"]?[template]?[method.Method.ToLowerInvariant()]?["responses"]?["204"]);
                Assert.Empty(text);
                return default;
            }
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
            var schema = SchemaOf(document, template, method, (int)response.StatusCode, mediaType);
            using var answer = JsonDocument.Parse(text.Length > 0 ? text : "null");
            var result = schema.Evaluate(answer.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{method} {path} ({(int)response.StatusCode} {mediaType}) does not match its documented schema: "
                + string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Key}: {e.Value}")))
                + "\n" + text[..Math.Min(text.Length, 2000)]);
            return answer.RootElement.Clone();
        }

        // Ingest: one good event, one rejected; an alert from a brute force to explain and triage.
        var source = "198.51.100.140";
        var events = string.Join('\n', Enumerable.Range(0, 10).Select(i =>
            $$"""{"id":"openapi-{{i}}","timestamp":{{NowMs - 60_000 + (i * 1000)}},"eventType":"auth.failure","sourceIP":"{{source}}","user":"root","logsource":{"product":"hydrant","service":"auth"} }""")) + "\n{\"eventType\":\"no timestamp\"}";
        await CheckAsync(HttpMethod.Post, "v1/events", "/v1/events", HttpStatusCode.OK, new StringContent(events));
        await CheckAsync(HttpMethod.Post, "v1/events?format=nope", "/v1/events", HttpStatusCode.BadRequest, new StringContent(events));
        var alert = await TriageTests.OneAlertAsync(client, $"sourceIP={source}", "the brute force raised its alert");
        var id = alert.GetProperty("id").GetString()!;

        await CheckAsync(HttpMethod.Get, $"v1/events?sourceIP={source}&explain=true&field.user=root&limit=3", "/v1/events", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, $"v1/events?sourceIP={source}", "/v1/events", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/events?limit=0", "/v1/events", HttpStatusCode.BadRequest);
        await CheckAsync(HttpMethod.Get, "v1/events/openapi-3", "/v1/events/{id}", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/events/openapi-none", "/v1/events/{id}", HttpStatusCode.NotFound);

        await CheckAsync(HttpMethod.Get, "v1/alerts?limit=5", "/v1/alerts", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/alerts?level=loud", "/v1/alerts", HttpStatusCode.BadRequest);
        await CheckAsync(HttpMethod.Get, $"v1/alerts/{id}", "/v1/alerts/{id}", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/alerts/01JDQ8Z6P4J9K3M2N1B0V9C8X7", "/v1/alerts/{id}", HttpStatusCode.NotFound);
        var acknowledged = await CheckAsync(HttpMethod.Patch, $"v1/alerts/{id}", "/v1/alerts/{id}", HttpStatusCode.OK, Json("""{"status":"acknowledged","note":"looking"}"""));
        await CheckAsync(HttpMethod.Patch, $"v1/alerts/{id}", "/v1/alerts/{id}", HttpStatusCode.Conflict, Json("""{"assignee":"sam"}"""), ifMatch: "\"0\"");
        await CheckAsync(HttpMethod.Patch, $"v1/alerts/{id}", "/v1/alerts/{id}", HttpStatusCode.BadRequest, Json("""{"status":"closed"}"""));
        Assert.Equal(1, acknowledged.GetProperty("version").GetInt64());

        await CheckAsync(HttpMethod.Get, "v1/rules", "/v1/rules", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Post, "v1/rules", "/v1/rules", HttpStatusCode.Created, new StringContent(Rule));
        await CheckAsync(HttpMethod.Post, "v1/rules", "/v1/rules", HttpStatusCode.OK, new StringContent(Rule));
        await CheckAsync(HttpMethod.Post, "v1/rules", "/v1/rules", HttpStatusCode.BadRequest, new StringContent("title: [unclosed"));
        await CheckAsync(HttpMethod.Get, "v1/rules/6a0f3f7e-2c1b-4d5e-9f80-1a2b3c4d5e6f", "/v1/rules/{id}", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Delete, "v1/rules/6a0f3f7e-2c1b-4d5e-9f80-1a2b3c4d5e6f", "/v1/rules/{id}", HttpStatusCode.NoContent);
        await CheckAsync(HttpMethod.Delete, "v1/rules/6a0f3f7e-2c1b-4d5e-9f80-1a2b3c4d5e6f", "/v1/rules/{id}", HttpStatusCode.NotFound);
        await CheckAsync(HttpMethod.Get, "v1/rules/6a0f3f7e-2c1b-4d5e-9f80-1a2b3c4d5e6f", "/v1/rules/{id}", HttpStatusCode.NotFound);

        await CheckAsync(HttpMethod.Put, "v1/intel/lists/openapi?level=high", "/v1/intel/lists/{name}", HttpStatusCode.Created, new StringContent("192.0.2.0/24\nnot an address\n"));
        await CheckAsync(HttpMethod.Put, "v1/intel/lists/openapi", "/v1/intel/lists/{name}", HttpStatusCode.OK, new StringContent("192.0.2.0/24\n"));
        await CheckAsync(HttpMethod.Put, "v1/intel/lists/openapi?format=xml", "/v1/intel/lists/{name}", HttpStatusCode.BadRequest, new StringContent("192.0.2.0/24\n"));
        await CheckAsync(HttpMethod.Get, "v1/intel/lists", "/v1/intel/lists", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/intel/lists/openapi", "/v1/intel/lists/{name}", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Delete, "v1/intel/lists/openapi", "/v1/intel/lists/{name}", HttpStatusCode.NoContent);
        await CheckAsync(HttpMethod.Delete, "v1/intel/lists/openapi", "/v1/intel/lists/{name}", HttpStatusCode.NotFound);
        await CheckAsync(HttpMethod.Get, "v1/intel/lists/openapi", "/v1/intel/lists/{name}", HttpStatusCode.NotFound);

        var day = DateTimeOffset.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await CheckAsync(HttpMethod.Post, $"v1/reports/daily/{day}", "/v1/reports/daily/{date}", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, $"v1/reports/daily/{day}", "/v1/reports/daily/{date}", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/reports/daily/1999-01-01", "/v1/reports/daily/{date}", HttpStatusCode.NotFound);
        await CheckAsync(HttpMethod.Get, "v1/reports/daily", "/v1/reports/daily", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/reports/daily?limit=0", "/v1/reports/daily", HttpStatusCode.BadRequest);

        await CheckAsync(HttpMethod.Post, "v1/analytics/query", "/v1/analytics/query", HttpStatusCode.OK, Json("""{"sql":"SELECT event_type, count(*) AS n FROM events GROUP BY event_type"}"""));
        await CheckAsync(HttpMethod.Post, "v1/analytics/query?maxRows=1", "/v1/analytics/query", HttpStatusCode.OK, Json("""{"sql":"SELECT * FROM (VALUES (1), (2)) t(x)"}"""));
        await CheckAsync(HttpMethod.Post, "v1/analytics/query", "/v1/analytics/query", HttpStatusCode.BadRequest, Json("""{"sql":"DROP TABLE events"}"""));

        await CheckAsync(HttpMethod.Get, "v1/stats", "/v1/stats", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/stats/history?seconds=60", "/v1/stats/history", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/stats/history?seconds=0", "/v1/stats/history", HttpStatusCode.BadRequest);
        await CheckAsync(HttpMethod.Get, "v1/stats/history/chart?series=cpu", "/v1/stats/history/chart", HttpStatusCode.BadRequest);
        await CheckAsync(HttpMethod.Get, "v1/deadletters?limit=5", "/v1/deadletters", HttpStatusCode.OK);
        await CheckAsync(HttpMethod.Get, "v1/deadletters?limit=0", "/v1/deadletters", HttpStatusCode.BadRequest);
        await CheckAsync(HttpMethod.Get, "healthz", "/healthz", HttpStatusCode.OK);

        // The check itself fails on a field the document does not name, or on a wrong type.
        var liveness = SchemaOf(document, "/healthz", HttpMethod.Get, 200, "application/json");
        using (var extra = JsonDocument.Parse("""{"status":"ok","uptime":3}"""))
        {
            Assert.False(liveness.Evaluate(extra.RootElement).IsValid);
        }
        var stats = SchemaOf(document, "/v1/stats", HttpMethod.Get, 200, "application/json");
        var real = await CheckAsync(HttpMethod.Get, "v1/stats", "/v1/stats", HttpStatusCode.OK);
        var wrong = JsonNode.Parse(real.GetRawText())!;
        wrong["shards"]!["count"] = "100";
        using (var mistyped = JsonDocument.Parse(wrong.ToJsonString()))
        {
            Assert.False(stats.Evaluate(mistyped.RootElement).IsValid);
        }

        // The bodies the endpoints read are described too (without refusing other content types).
        foreach (var (path, verb, type) in new[] { ("/v1/events", "post", "application/x-ndjson"), ("/v1/alerts/{id}", "patch", "application/json"), ("/v1/rules", "post", "application/yaml"), ("/v1/analytics/query", "post", "application/json"), ("/v1/intel/lists/{name}", "put", "text/plain") })
        {
            Assert.NotNull(document["paths"]![path]![verb]!["requestBody"]?["content"]?[type]?["schema"]);
        }

        // Every JSON operation of the document was checked here; the two that answer a stream and an image are read as a person does.
        var documented = document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => $"{o.Key.ToUpperInvariant()} {p.Key}"));
        Assert.Empty(documented.Except(checkedOperations).Except(["GET /v1/alerts/stream", "GET /v1/stats/history/chart"]));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>
    /// The schema the document gives an answer, as one JSON Schema (2020-12) holding every component
    /// under $defs, each object closed to the fields it names unless it says otherwise.
    /// </summary>
    private static JsonSchema SchemaOf(JsonObject document, string template, HttpMethod method, int status, string mediaType)
    {
        var operation = document["paths"]?[template]?[method.Method.ToLowerInvariant()]
            ?? throw new Xunit.Sdk.XunitException($"the document has no {method} {template}");
        var response = operation["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            ?? throw new Xunit.Sdk.XunitException($"{method} {template} answered {status}, which the document does not list");
        var schema = response["content"]?[mediaType]?["schema"]
            ?? throw new Xunit.Sdk.XunitException($"{method} {template} answered {status} as '{mediaType}', which the document does not give");
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"https://hydrant.test/{Guid.NewGuid():N}",
            ["$defs"] = document["components"]!["schemas"]!.DeepClone(),
            ["allOf"] = new JsonArray(schema.DeepClone()),
        };
        Close(root);
        var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        return JsonSchema.FromText(text);
    }

    private static void Close(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj.ContainsKey("properties") && !obj.ContainsKey("additionalProperties"))
                {
                    obj["additionalProperties"] = false;
                }
                foreach (var (_, value) in obj.ToList())
                {
                    Close(value);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Close(item);
                }
                break;
        }
    }
}
