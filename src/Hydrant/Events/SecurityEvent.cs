namespace Hydrant.Events;

/// <summary>
/// An accepted event: canonical fields pulled out for keys and indexes, and the canonical JSON
/// (canonical fields first, every other field as received) that is what gets stored.
/// </summary>
public sealed class SecurityEvent
{
    public required string Id { get; init; }

    /// <summary>Milliseconds since the Unix epoch, UTC.</summary>
    public required long TimestampMs { get; init; }

    public required string EventType { get; init; }

    /// <summary>Normalized source: an IP address in canonical text, or a source name for formats that allow one.</summary>
    public required string SourceIP { get; init; }

    /// <summary>True when the client supplied the id, which makes it an idempotency key.</summary>
    public required bool IdFromClient { get; init; }

    /// <summary>Its logsource: the format's, or (json format) its own.</summary>
    public EventLogsource? Logsource { get; init; }

    /// <summary>What consumers need to know of it without reading its JSON.</summary>
    public EventEnvelope Envelope => new(Id, TimestampMs, EventType, SourceIP, Logsource);

    /// <summary>The record's index in the body it came in (what a rejection would have named).</summary>
    public int Index { get; init; }

    /// <summary>The canonical JSON object as UTF-8.</summary>
    public required ReadOnlyMemory<byte> Json { get; init; }

    /// <summary>The same event with other canonical JSON (ingest's, with its enrichment added).</summary>
    public SecurityEvent WithJson(ReadOnlyMemory<byte> json) => new()
    {
        Id = Id,
        TimestampMs = TimestampMs,
        EventType = EventType,
        SourceIP = SourceIP,
        IdFromClient = IdFromClient,
        Logsource = Logsource,
        Index = Index,
        Json = json,
    };
}
