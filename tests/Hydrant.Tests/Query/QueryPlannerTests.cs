using Hydrant.Query;

namespace Hydrant.Tests.Query;

public sealed class QueryPlannerTests
{
    private static readonly long Now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly TimeSpan Retention = TimeSpan.FromDays(90);

    private static long At(int month, int day, int hour = 0) => new DateTimeOffset(2026, month, day, hour, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void A_source_ip_uses_the_source_index_one_partition_per_month_newest_first()
    {
        var plan = QueryPlanner.Plan(new EventQuery { SourceIP = "10.0.0.1", FromMs = At(9, 15), ToMs = At(11, 2) }, Now, Retention);
        Assert.Equal(PlanIndex.Source, plan.Index);
        Assert.Equal(["src#2026-11#10.0.0.1", "src#2026-10#10.0.0.1", "src#2026-09#10.0.0.1"], plan.PartitionGroups.Select(g => Assert.Single(g)));
    }

    [Fact]
    public void A_range_inside_the_last_24_hours_reads_the_50_hot_partitions_of_each_day()
    {
        var plan = QueryPlanner.Plan(new EventQuery { FromMs = Now - 3_600_000 * 20, ToMs = Now }, Now, Retention);
        Assert.Equal(PlanIndex.Hot, plan.Index);
        Assert.Equal(2, plan.PartitionGroups.Count);
        Assert.All(plan.PartitionGroups, g => Assert.Equal(50, g.Count));
        Assert.Equal("security-events#hot#2026-11-24#0", plan.PartitionGroups[0][0]);
        Assert.Equal("security-events#hot#2026-11-23#49", plan.PartitionGroups[1][49]);
    }

    [Fact]
    public void An_older_range_reads_the_100_shards_of_each_month()
    {
        var plan = QueryPlanner.Plan(new EventQuery { FromMs = At(10, 1), ToMs = At(11, 24) }, Now, Retention);
        Assert.Equal(PlanIndex.Shards, plan.Index);
        Assert.Equal(200, plan.PartitionCount);
        Assert.Equal("security-events#2026-11#0", plan.PartitionGroups[0][0]);
        Assert.Equal("security-events#2026-10#99", plan.PartitionGroups[1][99]);
    }

    [Fact]
    public void The_exclusive_end_does_not_pull_in_the_next_month()
    {
        var plan = QueryPlanner.Plan(new EventQuery { FromMs = At(9, 1), ToMs = At(10, 1) }, Now, Retention);
        Assert.Equal("security-events#2026-09#0", Assert.Single(plan.PartitionGroups)[0]);
    }

    [Fact]
    public void Ranges_reaching_before_retention_are_clipped_to_it()
    {
        var plan = QueryPlanner.Plan(new EventQuery { FromMs = 0, ToMs = Now }, Now, Retention);
        Assert.Equal(4, plan.PartitionGroups.Count); // Aug (retention start month) .. Nov
        Assert.Equal("security-events#2026-08#0", plan.PartitionGroups[^1][0]);
    }

    [Fact]
    public void Cursors_round_trip_and_garbage_is_refused()
    {
        var sortKey = "2026-11-24T10:00:00.000Z#auth.failure#id-1";
        Assert.True(Cursor.TryDecode(Cursor.Encode(sortKey), out var back));
        Assert.Equal(sortKey, back);
        Assert.False(Cursor.TryDecode("not-a-cursor!", out _));
        Assert.False(Cursor.TryDecode(Cursor.Encode("short"), out _));
    }
}
