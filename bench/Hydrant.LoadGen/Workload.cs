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
/// re-sent bodies are stored again like fresh traffic. Each round of re-sends is also moved
/// <see cref="RoundShiftMs"/> earlier: an event sent again unchanged would be the same failed
/// login at the same instant from the same source, and ten of those are a brute force the
/// detector rightly alerts on, work that real traffic would not cause.
/// </summary>
public sealed class Workload
{
    private const int DistinctBatches = 64;

    /// <summary>More than the built-in brute-force rule's 5 minutes over its 9 gaps: repeats alone never make one.</summary>
    private const long RoundShiftMs = 37_000;

    private static readonly byte[] TimestampField = "\"timestamp\":\""u8.ToArray();

    private readonly IReadOnlyList<byte[]> _bodies;

    /// <summary>Per body, where each event's timestamp text starts, and its time.</summary>
    private readonly IReadOnlyList<(int Offset, long Ms)[]> _timestamps;

    private Workload(IReadOnlyList<byte[]> bodies, IReadOnlyList<IReadOnlyList<SecurityEvent>> events)
    {
        _bodies = bodies;
        _timestamps = [.. bodies.Select(TimestampsOf)];
        Events = events;
    }

    /// <summary>Distinct request bodies; request n sends body n modulo this.</summary>
    public int Distinct => _bodies.Count;

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

    /// <summary>The body of request <paramref name="n"/>: its distinct body, moved earlier by its round.</summary>
    public byte[] Body(long n)
    {
        var body = _bodies[(int)(n % _bodies.Count)];
        var round = n / _bodies.Count;
        if (round == 0)
        {
            return body;
        }
        var shifted = (byte[])body.Clone();
        foreach (var (offset, ms) in _timestamps[(int)(n % _bodies.Count)])
        {
            Timestamps.Write(ms - (round * RoundShiftMs), shifted.AsSpan(offset, Timestamps.Width));
        }
        return shifted;
    }

    private static (int Offset, long Ms)[] TimestampsOf(byte[] body)
    {
        var found = new List<(int, long)>();
        var span = body.AsSpan();
        for (var at = span.IndexOf(TimestampField); at >= 0;)
        {
            var offset = at + TimestampField.Length;
            var text = System.Text.Encoding.ASCII.GetString(span.Slice(offset, Timestamps.Width));
            found.Add((offset, Timestamps.ParseCanonical(text)));
            var next = span[offset..].IndexOf(TimestampField);
            at = next < 0 ? -1 : offset + next;
        }
        return [.. found];
    }
}
