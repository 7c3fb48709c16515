using Hydrant.Query;

namespace Hydrant.Storage;

/// <summary>The historical event store: executes query plans and applies retention.</summary>
public interface IEventStore
{
    ValueTask<EventPage> QueryAsync(EventQuery query, QueryPlan plan, CancellationToken cancellationToken);

    /// <summary>Drops hot days past the hot window and whole months past the retention period.</summary>
    ValueTask<RetentionResult> ApplyRetentionAsync(DateTimeOffset now, TimeSpan retention, CancellationToken cancellationToken);
}

public sealed record RetentionResult(IReadOnlyList<string> DroppedHotDays, IReadOnlyList<string> DroppedMonths);
