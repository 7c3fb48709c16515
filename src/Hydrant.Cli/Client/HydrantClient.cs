using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace Hydrant.Cli.Client;

/// <summary>
/// HTTP client for a running Hydrant. A 429 is retried after its Retry-After for as long as it
/// takes (the server is saturated, not broken); connection failures and 5xx a few times with
/// jittered exponential backoff.
/// </summary>
internal sealed class HydrantClient : IDisposable
{
    private static readonly HttpStatusCode[] Transient = [HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout];

    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _saturation;
    private readonly ResiliencePipeline<HttpResponseMessage> _transient;

    public HydrantClient(string baseUrl, string? key)
    {
        _http = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(5) };
        if (!string.IsNullOrEmpty(key))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        _saturation = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests),
                MaxRetryAttempts = int.MaxValue,
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Result?.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1)),
                OnRetry = args =>
                {
                    Throttled++;
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _transient = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is HttpRequestException ||
                    (args.Outcome.Result is { } r && Transient.Contains(r.StatusCode))),
                MaxRetryAttempts = 5,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>How many 429 answers were waited out.</summary>
    public int Throttled { get; private set; }

    /// <summary>Posts events; <paramref name="stream"/> and <paramref name="position"/> number the records across the requests of one file.</summary>
    public Task<HttpResponseMessage> PostEventsAsync(ReadOnlyMemory<byte> body, string format, string? year, string? stream, long position, CancellationToken cancellationToken)
    {
        var path = $"v1/events?format={Uri.EscapeDataString(format)}" + (year is null ? string.Empty : $"&year={Uri.EscapeDataString(year)}")
            + (stream is null ? string.Empty : $"&stream={Uri.EscapeDataString(stream)}&position={position.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return SendAsync(() =>
        {
            var content = new ReadOnlyMemoryContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            return new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        }, cancellationToken);
    }

    /// <summary>A part of an EVTX file (its header and chunks from <paramref name="firstChunk"/> on), sent as it is.</summary>
    public Task<HttpResponseMessage> PostEvtxAsync(ReadOnlyMemory<byte> part, long firstChunk, CancellationToken cancellationToken) =>
        SendAsync(() =>
        {
            var content = new ReadOnlyMemoryContent(part);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return new HttpRequestMessage(HttpMethod.Post, $"v1/events?format=evtx&position={firstChunk.ToString(System.Globalization.CultureInfo.InvariantCulture)}") { Content = content };
        }, cancellationToken);

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, pathAndQuery), cancellationToken);

    /// <summary>A POST whose repeat is harmless (a report build, a read-only query), so it is retried like a GET.</summary>
    public Task<HttpResponseMessage> PostAsync(string pathAndQuery, object? json, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = json is null ? null : JsonContent.Create(json) }, cancellationToken);

    /// <summary>A PATCH that changes state (a triage change): sent once, never retried, so it is never applied twice.</summary>
    public Task<HttpResponseMessage> PatchOnceAsync(string pathAndQuery, object json, CancellationToken cancellationToken) =>
        _http.SendAsync(new HttpRequestMessage(HttpMethod.Patch, pathAndQuery) { Content = JsonContent.Create(json) }, cancellationToken);

    /// <summary>
    /// Says on stderr why the server refused (after <paramref name="doing"/>, if given) and returns
    /// the exit code for it: bad input for a 400, failure otherwise.
    /// </summary>
    public static async Task<int> ReportFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken, string? doing = null)
    {
        var why = await DescribeFailureAsync(response, cancellationToken);
        await Console.Error.WriteLineAsync(doing is null ? $"hydrant: {why}" : $"hydrant: {doing}: {why}");
        return response.StatusCode == HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.Failure;
    }

    /// <summary>The error text of a failed answer: the problem body's error and detail, or the status.</summary>
    public static async Task<string> DescribeFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var error = doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
            var detail = doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
            return $"{(int)response.StatusCode} {error}{(detail is null ? string.Empty : ": " + detail)}";
        }
        catch (JsonException)
        {
            return $"{(int)response.StatusCode} {response.ReasonPhrase}";
        }
    }

    public void Dispose() => _http.Dispose();

    private Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancellationToken) =>
        _saturation.ExecuteAsync(
            async (outer, ct) => await _transient.ExecuteAsync(
                async (inner, ct2) => await _http.SendAsync(inner(), ct2),
                outer,
                ct),
            request,
            cancellationToken).AsTask();
}
