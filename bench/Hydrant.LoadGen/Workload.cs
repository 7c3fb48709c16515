using Hydrant.Events;
using Hydrant.Generation;

namespace Hydrant.LoadGen;

public sealed record LoadSettings(string Url, int Connections, int Batch, long Events, int EventBytes, int? Rate, int? ServerPid, string? Key, int ProbeEvery = 10, int Sources = 10_000)
{
    public long Requests => (Events + Batch - 1) / Batch;
}

/// <summary>
/// Request bodies generated once before the clock starts and sent round-robin, so the load
/// generator spends its time on the wire, not on making JSON. Events carry no id, and each request
/// names a stream of its own (<c>?stream=</c>), so the ids the server derives are new each time and
/// re-sent bodies are stored again like fresh traffic.
/// </summary>
public sealed class Workload
{
    private const int DistinctBatches = 64;

    private Workload(IReadOnlyList<byte[]> bodies, IReadOnlyList<IReadOnlyList<SecurityEvent>> events)
    {
        Bodies = bodies;
        Events = events;
    }

    public IReadOnlyList<byte[]> Bodies { get; }

    /// <summary>The same events parsed, for loading into other systems.</summary>
    public IReadOnlyList<IReadOnlyList<SecurityEvent>> Events { get; }

    public static Workload Create(LoadSettings settings)
    {
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        var bodies = new List<byte[]>();
        var events = new List<IReadOnlyList<SecurityEvent>>();
        var parser = new EventParser(EventLimits.Default, TimeProvider.System);
        for (var i = 0; i < DistinctBatches; i++)
        {
            using var buffer = new PooledBuffer();
            // Within the last day, so every event also gets its hot copy: the heavier write path.
            new EventGenerator(new GeneratorOptions
            {
                Count = settings.Batch,
                Days = 0.9,
                Sources = settings.Sources,
                SizeBytes = settings.EventBytes,
                Seed = i + 1,
                EndMs = endMs,
                WithIds = false,
                Attacker = settings.Sources == 1 ? null : "203.0.113.9",
            }).WriteNdjson(buffer);
            var body = buffer.Span.ToArray();
            bodies.Add(body);
            // Never disposed: the parsed events point into the batch's buffer for the whole run.
            events.Add(parser.Parse(body).Events);
        }
        return new Workload(bodies, events);
    }
}
