using Hydrant.Keys;
using Hydrant.Storage;

namespace Hydrant.Query;

/// <summary>
/// Chooses the index for a query: a source IP goes to the source index (one partition per month),
/// a range inside the hot window to the hot partitions of its days, anything else to the 100
/// shards of each month in range. Ranges are clipped to the retention period, since nothing older
/// is kept.
/// </summary>
public static class QueryPlanner
{
    /// <summary>Where the kept time begins: retention drops whole months, so the first of the month the period starts in.</summary>
    public static long OldestKeptMs(long nowMs, TimeSpan retention) => FirstOfMonth(nowMs - (long)retention.TotalMilliseconds);

    public static QueryPlan Plan(EventQuery query, long nowMs, TimeSpan retention)
    {
        var oldestKept = OldestKeptMs(nowMs, retention);
        return PlanRange(query, nowMs, oldestKept) with { KeptFromMs = oldestKept, ReachesPastRetention = query.FromMs < oldestKept };
    }

    private static QueryPlan PlanRange(EventQuery query, long nowMs, long oldestKept)
    {
        var from = Math.Max(query.FromMs, oldestKept);
        var lastMs = query.ToMs - 1;
        if (lastMs < from)
        {
            return new QueryPlan(query.SourceIP is null ? PlanIndex.Shards : PlanIndex.Source, []);
        }

        if (query.SourceIP is not null)
        {
            var groups = Months(from, lastMs).Select(m => (IReadOnlyList<string>)[EventKeys.SourcePartition(m, query.SourceIP)]).ToList();
            return new QueryPlan(PlanIndex.Source, groups);
        }

        if (query.FromMs >= nowMs - (long)StoreOptions.HotWindow.TotalMilliseconds)
        {
            var groups = Days(from, lastMs)
                .Select(day => (IReadOnlyList<string>)Enumerable.Range(0, SourceShard.HotShards).Select(s => EventKeys.HotPartition(day, s)).ToList())
                .ToList();
            return new QueryPlan(PlanIndex.Hot, groups);
        }

        var monthGroups = Months(from, lastMs)
            .Select(m => (IReadOnlyList<string>)Enumerable.Range(0, SourceShard.MainShards).Select(s => EventKeys.MainPartition(m, s)).ToList())
            .ToList();
        return new QueryPlan(PlanIndex.Shards, monthGroups);
    }

    /// <summary>The first millisecond of each month touched by [fromMs, lastMs], newest first.</summary>
    private static IEnumerable<long> Months(long fromMs, long lastMs)
    {
        var month = FirstOfMonthDate(lastMs);
        var first = FirstOfMonthDate(fromMs);
        for (; month >= first; month = month.AddMonths(-1))
        {
            yield return ToMs(month);
        }
    }

    /// <summary>The first millisecond of each UTC day touched by [fromMs, lastMs], newest first.</summary>
    private static IEnumerable<long> Days(long fromMs, long lastMs)
    {
        var day = DateTime.UnixEpoch.AddMilliseconds(lastMs).Date;
        var first = DateTime.UnixEpoch.AddMilliseconds(fromMs).Date;
        for (; day >= first; day = day.AddDays(-1))
        {
            yield return ToMs(day);
        }
    }

    private static long FirstOfMonth(long ms) => ToMs(FirstOfMonthDate(Math.Max(ms, 0)));

    private static DateTime FirstOfMonthDate(long ms)
    {
        var t = DateTime.UnixEpoch.AddMilliseconds(ms);
        return new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc);
    }

    private static long ToMs(DateTime utc) => (long)(utc - DateTime.UnixEpoch).TotalMilliseconds;
}
