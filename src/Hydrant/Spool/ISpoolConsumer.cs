using Hydrant.Storage;

namespace Hydrant.Spool;

/// <summary>
/// Something that reads every accepted event from the spool (detector, analytics loader, store
/// writer). It keeps its own checkpoint beside its own data, so its effects and its position
/// commit together; the spool only learns the position to know what it may trim.
/// </summary>
public interface ISpoolConsumer
{
    string Name { get; }

    /// <summary>The sequence to resume from: one past the last entry whose effects are durable.</summary>
    ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken);

    /// <summary>Handles the entries and durably records the position one past the last of them.</summary>
    ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken);
}
