using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Hydrant.LoadGen;

/// <summary>Sends the workload to Hydrant over HTTP/1.1 keep-alive connections and times each acknowledgement.</summary>
public static class HydrantLoad
{
    /// <summary>Sends the workload; with a probe, every <see cref="LoadSettings.ProbeEvery"/>th request also carries a probe event.</summary>
    public static async Task<LoadResult> RunAsync(LoadSettings settings, Workload workload, CancellationToken cancellationToken, AlertProbe? probe = null)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(settings.Url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(2) };
        if (settings.Key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Key);
        }

        var requests = settings.Requests;
        var latencies = new double[requests];
        long next = -1, events = 0, bytes = 0, throttled = 0;
        var interval = settings.Rate is { } rate ? TimeSpan.FromSeconds((double)settings.Batch / rate) : TimeSpan.Zero;
        // The bodies repeat, and the server derives the ids of events without one from the body and
        // the stream it names: each request names a stream of its own, so each stores new events.
        var run = Guid.NewGuid().ToString("N")[..12];
        var clock = Stopwatch.StartNew();

        async Task WorkerAsync()
        {
            while (true)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= requests)
                {
                    return;
                }
                if (interval > TimeSpan.Zero)
                {
                    // Open-loop pacing: request n is due at n * interval, however late earlier ones were.
                    var due = interval * n;
                    var wait = due - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, cancellationToken);
                    }
                }
                var body = workload.Body(n);
                if (probe is not null && n % settings.ProbeEvery == 0)
                {
                    body = probe.Carry(body, n / settings.ProbeEvery);
                }
                var sent = Stopwatch.GetTimestamp();
                while (true)
                {
                    using var response = await http.PostAsync(string.Create(CultureInfo.InvariantCulture, $"v1/events?stream={run}-{n}"), new ByteArrayContent(body), cancellationToken);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Interlocked.Increment(ref throttled);
                        await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken);
                        continue;
                    }
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
                        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"hydrant answered {(int)response.StatusCode}: {detail}"));
                    }
                    break;
                }
                latencies[n] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                Interlocked.Add(ref events, workload.Events[(int)(n % workload.Distinct)].Count);
                Interlocked.Add(ref bytes, body.Length);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, settings.Connections).Select(_ => Task.Run(WorkerAsync, cancellationToken)));
        var elapsed = clock.Elapsed;
        return new LoadResult(events, bytes, elapsed, latencies, throttled, settings.ServerPid is { } pid ? PeakRss.Read(pid) : 0);
    }
}
