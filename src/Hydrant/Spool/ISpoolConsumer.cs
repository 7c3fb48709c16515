
namespace Hydrant.Spool;

/// <summary>
/// Something that reads every accepted event from the spool (detector, analytics loader, store
/// writer). It keeps its own checkpoint beside its own data, so its effects and its position
/// commit together; the spool only learns the position to know what it may trim.
/// </summary>
public interface ISpoolConsumer
{
    string Name { get; }

    /// <summary>How many entries one call takes, and how long to wait for a fuller batch.</summary>
    SpoolBatching Batching { get; }

    /// <summary>The sequence to resume from: one past the last entry whose effects are durable.</summary>
    ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Handles the entries and durably records the position one past the last of them (none: see
    /// <see cref="SpoolBatching.IdleCall"/>). An entry with no bytes is one to step over (set aside,
    /// or dropped by retention): it only moves the position.
    /// </summary>
    ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken);

    /// <summary>
    /// Whether a failure came from the entries themselves (retried unchanged they fail again), not
    /// from a backend that is down: the runner then looks for the entry at fault by offering halves
    /// and sets it aside. A consumer that can name the entry throws <see cref="SpoolEntryException"/>.
    /// </summary>
    bool IsCausedByEntries(Exception failure) => failure is SpoolEntryException;
}

/// <summary>
/// How a consumer takes the spool: at most <paramref name="MaxEntries"/> entries per call, and once
/// an entry is there, up to <paramref name="Linger"/> for more to arrive, for a consumer whose cost
/// is per commit rather than per entry (the analytics loader) and that may trail ingest a little.
/// </summary>
public sealed record SpoolBatching(int MaxEntries, TimeSpan Linger)
{
    /// <summary>
    /// When set, a consumer with work of its own besides the spool (the detector's events
    /// forwarded by other nodes) is called with no entries after the spool has been quiet this long.
    /// </summary>
    public TimeSpan? IdleCall { get; init; }

    /// <summary>
    /// The CPU priority of the consumer's thread (nice, 0 normal to 19 lowest): below ingest's, so
    /// when the cores are short a burst is acknowledged at full speed and consumed after it, the
    /// spool holding the difference (its high-water mark bounds it). With cores to spare it makes
    /// no difference. Measured in BENCHMARKS.md ("Trust", the consumers yielding to ingest).
    /// </summary>
    public int Niceness { get; init; } = DefaultNiceness;

    /// <summary>Below ingest, but not at the bottom: the detector still gets a share of busy cores, so alerts come during a long burst.</summary>
    public const int DefaultNiceness = 10;

    /// <summary>What is there, at once: for consumers that must keep up in real time (the detector).</summary>
    public static SpoolBatching Immediate { get; } = new(4096, TimeSpan.Zero);
}
