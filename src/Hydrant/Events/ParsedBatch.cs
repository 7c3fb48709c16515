namespace Hydrant.Events;

/// <summary>
/// The outcome of parsing one request: the accepted events (their JSON lives in a pooled buffer
/// owned by this batch) and the rejected records with their reasons.
/// </summary>
public sealed class ParsedBatch : IDisposable
{
    private readonly PooledBuffer _buffer;

    internal ParsedBatch(PooledBuffer buffer, List<SecurityEvent> events, List<EventRejection> rejections, int records, List<string> notices)
    {
        _buffer = buffer;
        Events = events;
        Rejections = rejections;
        Records = records;
        Notices = notices;
    }

    public IReadOnlyList<SecurityEvent> Events { get; }

    public IReadOnlyList<EventRejection> Rejections { get; }

    /// <summary>How many records the request held, accepted or not.</summary>
    public int Records { get; }

    /// <summary>What was read but deserves a look, or left out between records (EVTX: checksums that do not match, bytes that are no record).</summary>
    public IReadOnlyList<string> Notices { get; }

    public void Dispose() => _buffer.Dispose();
}
