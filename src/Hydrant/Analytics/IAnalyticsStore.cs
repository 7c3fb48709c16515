namespace Hydrant.Analytics;

/// <summary>One event as the analytics store keeps it: the queryable columns and the event as stored.</summary>
public sealed record AnalyticsRow(
    string Id,
    long TimestampMs,
    string EventType,
    string SourceIP,
    int Shard,
    string? Product,
    string? Service,
    string? Category,
    ReadOnlyMemory<byte> Json);

/// <summary>Where the analytics store stands: rows loaded and the loader's position.</summary>
public sealed record AnalyticsStatus(long Rows, long Checkpoint, int SchemaVersion);

/// <summary>
/// The analytics store (DuckDB embedded, PostgreSQL at scale): events in columns for reports and
/// ad-hoc SQL. The loader's checkpoint lives in it, committed in the same transaction as the rows
/// it reflects, so after a crash at any moment every event is in it exactly once.
/// </summary>
public interface IAnalyticsStore
{
    /// <summary>The loader's position: one past the last spool entry whose rows are stored.</summary>
    ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Appends the rows and moves the checkpoint, in one transaction.</summary>
    ValueTask AppendAsync(IReadOnlyList<AnalyticsRow> rows, long checkpoint, CancellationToken cancellationToken);

    ValueTask<AnalyticsStatus> StatusAsync(CancellationToken cancellationToken);
}
