using Hydrant.Query;

namespace Hydrant.Storage;

/// <summary>The historical event store: executes query plans and applies retention.</summary>
public interface IEventStore
{
    ValueTask<EventPage> QueryAsync(EventQuery query, QueryPlan plan, CancellationToken cancellationToken);

    /// <summary>
    /// The stored JSON of the event with this id whose event time falls in [<paramref name="fromMs"/>,
    /// <paramref name="toMs"/>) (what is kept), or null. Ids are unique within their event's month,
    /// so each month of the range is asked, newest first.
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>?> GetAsync(string id, long fromMs, long toMs, CancellationToken cancellationToken);

    /// <summary>Drops hot days past the hot window and whole months past the retention period.</summary>
    ValueTask<RetentionResult> ApplyRetentionAsync(DateTimeOffset now, TimeSpan retention, CancellationToken cancellationToken);
}

public sealed record RetentionResult(IReadOnlyList<string> DroppedHotDays, IReadOnlyList<string> DroppedMonths);
