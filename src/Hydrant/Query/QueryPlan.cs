namespace Hydrant.Query;

public enum PlanIndex
{
    Source,
    Hot,
    Shards,
}

/// <summary>
/// Which partitions a query reads. Partitions come in groups that each cover one time bucket (a
/// month or a day), newest bucket first, so a reader can stop once the limit is met without
/// opening older buckets.
/// </summary>
public sealed record QueryPlan(PlanIndex Index, IReadOnlyList<IReadOnlyList<string>> PartitionGroups)
{
    /// <summary>The oldest time the store keeps (retention): the plan reads nothing before it.</summary>
    public long KeptFromMs { get; init; } = long.MinValue;

    /// <summary>True when the query asked for time before <see cref="KeptFromMs"/>, which no longer exists.</summary>
    public bool ReachesPastRetention { get; init; }

    public int PartitionCount => PartitionGroups.Sum(g => g.Count);

    public string IndexName => Index switch
    {
        PlanIndex.Source => "source",
        PlanIndex.Hot => "hot",
        _ => "shards",
    };
}

/// <summary>One page of results: canonical event JSON, newest first, and the cursor for the next page.</summary>
public sealed record EventPage(IReadOnlyList<ReadOnlyMemory<byte>> Events, string? NextSortKey, int PartitionsRead, long ItemsRead);
