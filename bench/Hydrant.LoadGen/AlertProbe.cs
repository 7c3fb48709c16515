using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Hydrant.LoadGen;

/// <summary>
/// Measures receipt-to-alert latency: every so many requests carry one probe event that the
/// built-in pack's hidden-/tmp process rule fires on, and a subscriber on the alert stream notes
/// when its alert arrives. Probes lie in the past, six minutes of event time apart (more than the
/// suppression window) and a day older than the generated traffic, so each raises its own alert
/// rather than updating another. Latency is from sending the request that carries the probe to
/// reading its alert on the stream.
/// </summary>
public sealed class AlertProbe : IAsyncDisposable
{
    private const string Prefix = "probe-";
    private const string DroppedComment = ": dropped ";
    private long _dropped;
    private readonly ConcurrentDictionary<string, long> _sent = new();
    private readonly ConcurrentDictionary<string, double> _latencyMs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http;
    private readonly Task _reader;
    private readonly long _firstProbeMs;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    private AlertProbe(HttpClient http, Stream stream, long probes)
    {
        _http = http;
        _firstProbeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - TimeSpan.FromDays(2).Ticks / TimeSpan.TicksPerMillisecond - ((probes + 1) * 6 * 60_000);
        _reader = Task.Run(() => ReadAsync(stream));
    }

    public static async Task<AlertProbe> StartAsync(string url, string? key, long probes, CancellationToken cancellationToken)
    {
        var http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        var response = await http.GetAsync("v1/alerts/stream", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        return new AlertProbe(http, await response.Content.ReadAsStreamAsync(cancellationToken), probes);
    }

    /// <summary>The request body with probe number <paramref name="probe"/> appended; its send time is taken now.</summary>
    public byte[] Carry(byte[] body, long probe)
    {
        var id = Prefix + _run + "-" + probe.ToString(CultureInfo.InvariantCulture);
        var ts = _firstProbeMs + (probe * 6 * 60_000);
        var line = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $$"""{"id":"{{id}}","timestamp":{{ts}},"eventType":"process.start","sourceIP":"192.0.2.1","logsource":{"product":"hydrant","service":"process"},"image":"/tmp/.probe/run"}"""));
        var carried = new byte[body.Length + 1 + line.Length];
        body.CopyTo(carried, 0);
        carried[body.Length] = (byte)'\n';
        line.CopyTo(carried, body.Length + 1);
        _sent[id] = Stopwatch.GetTimestamp();
        return carried;
    }

    /// <summary>Alerts the server said it dropped from this stream because the stream fell behind.</summary>
    public long DroppedByServer => Interlocked.Read(ref _dropped);

    /// <summary>Waits (up to <paramref name="patience"/>) for every probe's alert, then the latencies seen, sorted, and how many never came.</summary>
    public async Task<(double[] LatenciesMs, int Missing)> ResultsAsync(TimeSpan patience)
    {
        var deadline = Stopwatch.StartNew();
        while (_latencyMs.Count < _sent.Count && deadline.Elapsed < patience)
        {
            await Task.Delay(50);
        }
        var latencies = _latencyMs.Values.Order().ToArray();
        return (latencies, _sent.Count - latencies.Length);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reader;
        }
        catch (OperationCanceledException)
        {
        }
        _http.Dispose();
        _stop.Dispose();
    }

    private async Task ReadAsync(Stream stream)
    {
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(_stop.Token) is { } line)
        {
            if (line.StartsWith(DroppedComment, StringComparison.Ordinal))
            {
                var digits = line.AsSpan(DroppedComment.Length);
                Interlocked.Add(ref _dropped, long.Parse(digits[..digits.IndexOf(' ')], CultureInfo.InvariantCulture));
                continue;
            }
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }
            var now = Stopwatch.GetTimestamp();
            using var alert = JsonDocument.Parse(line.AsMemory("data: ".Length));
            foreach (var e in alert.RootElement.GetProperty("events").EnumerateArray())
            {
                if (e.GetProperty("id").GetString() is { } id && id.StartsWith(Prefix, StringComparison.Ordinal) && _sent.TryGetValue(id, out var sent))
                {
                    _latencyMs.TryAdd(id, Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
                }
            }
        }
    }
}
