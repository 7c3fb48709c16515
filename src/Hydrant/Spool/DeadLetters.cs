namespace Hydrant.Spool;

/// <summary>
/// Spool entries a consumer could not process, set aside with the reason so the consumer goes on
/// (one bad event never stops detection, loading or the store writer). Each is kept with its own
/// copy of the event, so trimming the spool loses nothing; they are listed by
/// <c>GET /v1/deadletters</c> and counted in <c>/v1/stats</c> and <c>/metrics</c>.
/// </summary>
public interface IDeadLetterStore
{
    /// <summary>Durably keeps the entry, before the consumer moves past it. Setting the same entry aside again replaces it.</summary>
    void SetAside(DeadLetter letter);

    /// <summary>The newest first, optionally of one consumer, below <paramref name="before"/> (a sequence; null: from the newest).</summary>
    IReadOnlyList<DeadLetter> List(string? consumer, long? before, int limit);

    /// <summary>How many are kept, per consumer.</summary>
    IReadOnlyDictionary<string, long> Counts();
}

/// <summary>One entry set aside: which consumer, where in the spool, when, why, and the event's bytes as they were.</summary>
public sealed record DeadLetter(string Consumer, long Sequence, long AtMs, string Reason, ReadOnlyMemory<byte> Event);

/// <summary>
/// Thrown by a consumer that knows which entry it cannot process (an event it cannot parse, a
/// value no rule can read): the runner sets that entry aside and offers the rest again.
/// </summary>
public sealed class SpoolEntryException(long sequence, string reason, Exception? inner = null) : Exception(reason, inner)
{
    public long Sequence { get; } = sequence;
}
