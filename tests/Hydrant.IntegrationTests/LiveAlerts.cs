using System.Text.Json;

namespace Hydrant.IntegrationTests;

/// <summary>A client on a node's live alert stream (GET /v1/alerts/stream).</summary>
public sealed class LiveAlerts : IDisposable
{
    private readonly HttpClient _client;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private LiveAlerts(HttpClient client, HttpResponseMessage response, StreamReader reader) => (_client, _response, _reader) = (client, response, reader);

    /// <summary>Opens the stream and waits for its opening comment, so alerts from now on reach it.</summary>
    public static async Task<LiveAlerts> OpenAsync(string baseUrl)
    {
        var client = Api.Client(baseUrl);
        client.Timeout = Timeout.InfiniteTimeSpan;
        var response = await client.GetAsync("v1/alerts/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith(":", await reader.ReadLineAsync());
        return new LiveAlerts(client, response, reader);
    }

    /// <summary>The next alert on the stream, within 30 seconds.</summary>
    public async Task<JsonElement> NextAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await _reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return JsonDocument.Parse(line["data: ".Length..]).RootElement;
            }
        }
        throw new InvalidOperationException("the alert stream ended");
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
        _client.Dispose();
    }
}
