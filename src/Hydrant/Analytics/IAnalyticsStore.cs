using Hydrant.Detection.Alerts;
using Hydrant.Reports;

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
/// The analytics store (DuckDB embedded, PostgreSQL at scale): events and alerts in columns for
/// reports and ad-hoc SQL, and the reports built from them. The loader's checkpoint lives in it,
/// committed in the same transaction as the rows it reflects, so after a crash at any moment every
/// event is in it exactly once.
/// </summary>
public interface IAnalyticsStore
{
    /// <summary>The loader's position: one past the last spool entry whose rows are stored.</summary>
    ValueTask<long> LoadCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Appends the rows and moves the checkpoint, in one transaction.</summary>
    ValueTask AppendAsync(IReadOnlyList<AnalyticsRow> rows, long checkpoint, CancellationToken cancellationToken);

    ValueTask<AnalyticsStatus> StatusAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether <see cref="AppendAsync"/> failed because the engine refused a value in the rows
    /// (retrying them unchanged fails again), not because it is unreachable or out of room.
    /// </summary>
    bool IsRefusedData(Exception failure);

    /// <summary>Replaces the alerts first seen on <paramref name="day"/> (UTC) with these, in one transaction.</summary>
    ValueTask ReplaceAlertsAsync(DateOnly day, IReadOnlyList<Alert> alerts, CancellationToken cancellationToken);

    /// <summary>Stores the alerts as they are now (replacing this node's rows of the same ids), each on the UTC day of its first event, in one transaction.</summary>
    ValueTask UpsertAlertsAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken);

    /// <summary>The figures of one UTC day, computed from the rows and alerts stored now.</summary>
    ValueTask<DailyReport> AggregateDayAsync(DateOnly day, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) the report of its day.</summary>
    ValueTask SaveReportAsync(DailyReport report, CancellationToken cancellationToken);

    ValueTask<DailyReport?> LoadReportAsync(DateOnly day, CancellationToken cancellationToken);

    /// <summary>The stored reports, newest day first, at most <paramref name="limit"/>, each with when it was built and its totals.</summary>
    ValueTask<IReadOnlyList<StoredReport>> ListReportsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Drops the events and alerts of every UTC day before <paramref name="before"/> (retention);
    /// the days' reports are kept. Returns how many days went.
    /// </summary>
    ValueTask<int> DropDaysBeforeAsync(DateOnly before, CancellationToken cancellationToken);

    /// <summary>
    /// Days before <paramref name="before"/> whose report is missing or out of date: they have
    /// events and no stored report, or a report that counts fewer events than the day holds now
    /// (events that arrived late, a backfill). Oldest first.
    /// </summary>
    ValueTask<IReadOnlyList<DateOnly>> DaysToReportAsync(DateOnly before, CancellationToken cancellationToken);

    /// <summary>
    /// Runs one read-only query (already passed by <see cref="ReadOnlySql.Check"/>) with nothing it
    /// could write kept: at most <see cref="AnalyticsQuery.MaxRows"/> rows, cancelled after its time limit.
    /// </summary>
    /// <exception cref="AnalyticsQueryException">The engine refused or failed the query, or it ran out of time.</exception>
    ValueTask<QueryAnswer> QueryAsync(AnalyticsQuery query, CancellationToken cancellationToken);
}
