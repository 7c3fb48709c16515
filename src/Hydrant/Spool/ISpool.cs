using Hydrant.Events;

namespace Hydrant.Spool;

/// <summary>
/// The spool: the durable local log that every accepted event enters first. An append that
/// completes means the events survive a crash; consumers (detector, analytics loader, store
/// writer) then read it from their own checkpoints, and entries below all of them are trimmed.
/// </summary>
public interface ISpool
{
    /// <summary>Durably appends the events (grouped with concurrent appends into one synced write).</summary>
    ValueTask<AppendResult> AppendAsync(IReadOnlyList<SecurityEvent> events, CancellationToken cancellationToken);

    /// <summary>Entries written but not yet consumed by every consumer.</summary>
    long Depth { get; }

    /// <summary>One past the last entry consumers may read: everything below it is written (or a gap).</summary>
    long NextSequence { get; }

    /// <summary>
    /// One past the last entry accepted: at or above <see cref="NextSequence"/>, above it while
    /// accepted entries still wait for their ids to be claimed across nodes. Lag is measured to it.
    /// </summary>
    long AcceptedSequence { get; }

    /// <summary>The oldest entry still kept: everything below it is trimmed.</summary>
    long FirstSequence { get; }

    /// <summary>Reads up to <paramref name="max"/> entries starting at <paramref name="fromSequence"/>.</summary>
    IReadOnlyList<SpoolEntry> Read(long fromSequence, int max);

    /// <summary>Declares a consumer and where it resumes; entries from there on are kept for it.</summary>
    void RegisterConsumer(string name, long position);

    /// <summary>Records that a consumer has durably handled everything below <paramref name="position"/>.</summary>
    void ReportProgress(string name, long position);

    /// <summary>Completes when entries at or after <paramref name="sequence"/> exist, or the token fires.</summary>
    Task WaitForEntriesAsync(long sequence, CancellationToken cancellationToken);

    /// <summary>Forgets the ids of months past retention (their events are gone, so an id may come again).</summary>
    void ForgetIdsBefore(DateTimeOffset cutoff);
}

/// <summary>How an append went: events newly stored, and those that repeated an id already stored.</summary>
public readonly record struct AppendResult(int Stored, int Duplicates);

/// <summary>
/// One spool entry: its sequence, the canonical event JSON (empty: an entry to step over) and the
/// envelope ingest found (null for entries spooled without one: read it from the JSON).
/// </summary>
public readonly record struct SpoolEntry(long Sequence, ReadOnlyMemory<byte> Json, EventEnvelope? Envelope = null)
{
    /// <summary>The envelope, from ingest or else read from the JSON.</summary>
    /// <exception cref="System.Text.Json.JsonException">The JSON cannot be read.</exception>
    /// <exception cref="FormatException">Its timestamp is not canonical.</exception>
    public EventEnvelope ReadEnvelope() => Envelope ?? EventEnvelope.Read(Json.Span);
}
