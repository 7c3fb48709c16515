using System.Globalization;

namespace Hydrant.LoadGen;

/// <summary>What one load run measured.</summary>
public sealed record LoadResult(long Events, long Bytes, TimeSpan Elapsed, double[] LatenciesMs, long Throttled, long PeakRssBytes)
{
    public double EventsPerSecond => Events / Elapsed.TotalSeconds;

    public void Print(string system)
    {
        Array.Sort(LatenciesMs);
        string P(double q) => LatenciesMs.Length == 0 ? "-" : LatenciesMs[Math.Min(LatenciesMs.Length - 1, (int)(q * LatenciesMs.Length))].ToString("0.0", CultureInfo.InvariantCulture);
        var rss = PeakRssBytes > 0 ? string.Create(CultureInfo.InvariantCulture, $"; server peak RSS {PeakRssBytes / 1048576.0:N0} MiB") : string.Empty;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{system}: {Events:N0} events, {Bytes / 1048576.0:N0} MiB in {Elapsed.TotalSeconds:0.00} s = {EventsPerSecond:N0} events/s ({Bytes / 1048576.0 / Elapsed.TotalSeconds:N0} MiB/s); ack latency per request p50 {P(0.50)} ms, p99 {P(0.99)} ms, max {P(1.0)} ms; 429s {Throttled}{rss}"));
    }
}
