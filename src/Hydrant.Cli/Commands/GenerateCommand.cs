using System.CommandLine;
using Hydrant.Events;
using Hydrant.Generation;

namespace Hydrant.Cli.Commands;

/// <summary>Synthetic security events as NDJSON on stdout.</summary>
internal static class GenerateCommand
{
    private const int Chunk = 10_000;

    public static Command Create()
    {
        var count = new Option<long>("--count") { Description = "Number of events", DefaultValueFactory = _ => 1000 };
        var days = new Option<double>("--days") { Description = "Spread the events over this many days, ending now", DefaultValueFactory = _ => 1 };
        var sources = new Option<int>("--sources") { Description = "Distinct source IPs (Zipf-distributed volumes)", DefaultValueFactory = _ => 1000 };
        var attacker = new Option<string?>("--attacker") { Description = "An IP that also brute-forces SSH and scans ports" };
        var size = new Option<int>("--size") { Description = "Approximate bytes per event", DefaultValueFactory = _ => 1024 };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same seed gives the same events", DefaultValueFactory = _ => 1 };
        var command = new Command("generate", "Write synthetic security events as NDJSON to stdout") { count, days, sources, attacker, size, seed };
        command.SetAction(async (result, cancellationToken) =>
        {
            var attackerIp = result.GetValue(attacker);
            if (attackerIp is not null && !SourceAddress.TryNormalizeIp(attackerIp, out attackerIp))
            {
                await Console.Error.WriteLineAsync($"hydrant: --attacker '{result.GetValue(attacker)}' is not an IP address");
                return ExitCodes.BadInput;
            }
            if (result.GetValue(count) < 0 || result.GetValue(sources) < 1 || result.GetValue(days) <= 0 || result.GetValue(size) < 0)
            {
                await Console.Error.WriteLineAsync("hydrant: --count must be >= 0, --sources >= 1, --days > 0 and --size >= 0");
                return ExitCodes.BadInput;
            }
            var options = new GeneratorOptions
            {
                Count = result.GetValue(count),
                Days = result.GetValue(days),
                Sources = result.GetValue(sources),
                Attacker = attackerIp,
                SizeBytes = result.GetValue(size),
                Seed = result.GetValue(seed),
            };
            var generator = new EventGenerator(options);
            await using var stdout = Console.OpenStandardOutput();
            using var buffer = new PooledBuffer(Chunk * (options.SizeBytes + 512));
            for (long first = 0; first < options.Count; first += Chunk)
            {
                buffer.Reset();
                generator.WriteNdjson(buffer, first, Chunk);
                await stdout.WriteAsync(buffer.Memory, cancellationToken);
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
