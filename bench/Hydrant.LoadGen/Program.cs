using System.CommandLine;
using System.Globalization;
using Hydrant.LoadGen;

var url = new Option<string>("--url") { Description = "Hydrant base address", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
var connections = new Option<int>("--connections") { Description = "Concurrent HTTP requests in flight", DefaultValueFactory = _ => 8 };
var batch = new Option<int>("--batch") { Description = "Events per request", DefaultValueFactory = _ => 1000 };
var events = new Option<long>("--events") { Description = "Events to send in all", DefaultValueFactory = _ => 1_000_000 };
var size = new Option<int>("--size") { Description = "Approximate bytes per event", DefaultValueFactory = _ => 1024 };
var sources = new Option<int>("--sources") { Description = "Distinct source addresses (1: every event from one source, the hot-key scenario)", DefaultValueFactory = _ => 10_000 };
var rate = new Option<int?>("--rate") { Description = "Target events/s (default: as fast as acks come back)" };
var pid = new Option<int?>("--pid") { Description = "Server process id, to sample its resident memory" };
var postgres = new Option<string?>("--postgres") { Description = "Npgsql connection string: also load the same events into PostgreSQL and print the ratio" };
var key = new Option<string?>("--key") { Description = "API key" };
var alertLatency = new Option<bool>("--alert-latency") { Description = "Also measure receipt-to-alert latency: probe events the built-in pack alerts on, timed until their alert arrives on /v1/alerts/stream" };
var probeEvery = new Option<int>("--probe-every") { Description = "With --alert-latency: one probe per this many requests", DefaultValueFactory = _ => 10 };
var warmup = new Option<long>("--warmup") { Description = "Events sent first, at the same rate, and not measured, so the server's JIT and caches are warm", DefaultValueFactory = _ => 200_000 };

var root = new RootCommand("Hydrant end-to-end load generator: drives a running `hydrant serve` over HTTP")
{
    url, connections, batch, events, size, sources, rate, pid, postgres, key, warmup, alertLatency, probeEvery,
};
root.SetAction(async (result, cancellationToken) =>
{
    var settings = new LoadSettings(
        result.GetValue(url)!, result.GetValue(connections), result.GetValue(batch), result.GetValue(events),
        result.GetValue(size), result.GetValue(rate), result.GetValue(pid), result.GetValue(key), Math.Max(1, result.GetValue(probeEvery)),
        Math.Max(1, result.GetValue(sources)));
    var workload = Workload.Create(settings);
    Console.WriteLine($"workload: {settings.Events:N0} events of ~{settings.EventBytes} B in requests of {settings.Batch}, {settings.Connections} in flight, {settings.Sources:N0} sources");

    if (result.GetValue(warmup) is > 0 and var warm)
    {
        await HydrantLoad.RunAsync(settings with { Events = warm }, workload, cancellationToken);
    }
    await using var probe = result.GetValue(alertLatency)
        ? await AlertProbe.StartAsync(settings.Url, settings.Key, (settings.Requests / settings.ProbeEvery) + 1, cancellationToken)
        : null;
    var hydrant = await HydrantLoad.RunAsync(settings, workload, cancellationToken, probe);
    hydrant.Print("hydrant");
    if (probe is not null)
    {
        var (latencies, missing) = await probe.ResultsAsync(TimeSpan.FromSeconds(120));
        string P(double q) => latencies.Length == 0 ? "-" : latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))].ToString("0.0", CultureInfo.InvariantCulture);
        Console.WriteLine($"receipt-to-alert: {latencies.Length} probes, p50 {P(0.50)} ms, p99 {P(0.99)} ms, max {P(1.0)} ms; alerts not seen within 120 s: {missing} (the stream dropped {probe.DroppedByServer:N0} alerts it fell behind for)");
    }

    if (result.GetValue(postgres) is { } connectionString)
    {
        var pg = await PostgresLoad.RunAsync(connectionString, settings, workload, cancellationToken);
        pg.Print("postgresql");
        Console.WriteLine($"ratio hydrant/postgresql events/s: {hydrant.EventsPerSecond / pg.EventsPerSecond:0.00}");
    }
    return 0;
});
return await root.Parse(args).InvokeAsync();
