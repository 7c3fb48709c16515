using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Generation;

namespace Hydrant.IntegrationTests;

/// <summary>Small helpers over the HTTP API, shared by the tests.</summary>
public static class Api
{
    public static HttpClient Client(string baseUrl, string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public static byte[] Generate(GeneratorOptions options)
    {
        using var buffer = new PooledBuffer();
        new EventGenerator(options).WriteNdjson(buffer);
        return buffer.Span.ToArray();
    }

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(HttpClient client, byte[] body, string path = "v1/events")
    {
        var response = await client.PostAsync(path, new ByteArrayContent(body));
        return (response, await ReadJsonAsync(response));
    }

    public static Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(HttpClient client, string body) =>
        PostAsync(client, Encoding.UTF8.GetBytes(body));

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        return (response, await ReadJsonAsync(response));
    }

    /// <summary>Follows cursors and returns every event id of the query, in the order served.</summary>
    public static async Task<List<string>> QueryIdsAsync(HttpClient client, string query)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var (response, body) = await GetAsync(client, "v1/events?" + query + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            ids.AddRange(body.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!));
            cursor = body.GetProperty("next").GetString();
        }
        while (cursor is not null);
        return ids;
    }

    public static string Rfc3339(long ms) => Timestamps.ToText(ms);

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
