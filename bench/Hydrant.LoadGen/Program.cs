using System.CommandLine;
using Hydrant.LoadGen;

var url = new Option<string>("--url") { Description = "Hydrant base address", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
var connections = new Option<int>("--connections") { Description = "Concurrent HTTP requests in flight", DefaultValueFactory = _ => 8 };
var batch = new Option<int>("--batch") { Description = "Events per request", DefaultValueFactory = _ => 1000 };
var events = new Option<long>("--events") { Description = "Events to send in all", DefaultValueFactory = _ => 1_000_000 };
var size = new Option<int>("--size") { Description = "Approximate bytes per event", DefaultValueFactory = _ => 1024 };
var rate = new Option<int?>("--rate") { Description = "Target events/s (default: as fast as acks come back)" };
var pid = new Option<int?>("--pid") { Description = "Server process id, to sample its resident memory" };
var postgres = new Option<string?>("--postgres") { Description = "Npgsql connection string: also load the same events into PostgreSQL and print the ratio" };
var key = new Option<string?>("--key") { Description = "API key" };
var warmup = new Option<long>("--warmup") { Description = "Events sent first, at the same rate, and not measured, so the server's JIT and caches are warm", DefaultValueFactory = _ => 200_000 };

var root = new RootCommand("Hydrant end-to-end load generator: drives a running `hydrant serve` over HTTP")
{
    url, connections, batch, events, size, rate, pid, postgres, key, warmup,
};
root.SetAction(async (result, cancellationToken) =>
{
    var settings = new LoadSettings(
        result.GetValue(url)!, result.GetValue(connections), result.GetValue(batch), result.GetValue(events),
        result.GetValue(size), result.GetValue(rate), result.GetValue(pid), result.GetValue(key));
    var workload = Workload.Create(settings);
    Console.WriteLine($"workload: {settings.Events:N0} events of ~{settings.EventBytes} B in requests of {settings.Batch}, {settings.Connections} in flight");

    if (result.GetValue(warmup) is > 0 and var warm)
    {
        await HydrantLoad.RunAsync(settings with { Events = warm }, workload, cancellationToken);
    }
    var hydrant = await HydrantLoad.RunAsync(settings, workload, cancellationToken);
    hydrant.Print("hydrant");

    if (result.GetValue(postgres) is { } connectionString)
    {
        var pg = await PostgresLoad.RunAsync(connectionString, settings, workload, cancellationToken);
        pg.Print("postgresql");
        Console.WriteLine($"ratio hydrant/postgresql events/s: {hydrant.EventsPerSecond / pg.EventsPerSecond:0.00}");
    }
    return 0;
});
return await root.Parse(args).InvokeAsync();
