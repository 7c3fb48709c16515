using Hydrant.Server.Monitoring;

namespace Hydrant.Tests.Monitoring;

public sealed class HourlyCountsTests
{
    private const long HourMs = 3_600_000;
    private static readonly long Noon = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void Counts_add_up_per_utc_hour_and_hours_without_any_read_as_zero()
    {
        var counts = new HourlyCounts();
        counts.Add(Noon + 1, 2);
        counts.Add(Noon + HourMs - 1, 3);
        counts.Add(Noon - 1, 5);

        var last = counts.Last(Noon + (10 * 60_000));
        Assert.Equal(HourlyCounts.Hours, last.Count);
        Assert.Equal((Noon, 5L), last[^1]);
        Assert.Equal((Noon - HourMs, 5L), last[^2]);
        Assert.Equal(Noon - (23 * HourMs), last[0].HourStartMs);
        Assert.Equal(10, last.Sum(h => h.Count));
    }

    [Fact]
    public void An_hour_a_day_old_gives_its_slot_to_the_new_one_and_a_late_add_to_it_is_dropped()
    {
        var counts = new HourlyCounts();
        counts.Add(Noon, 7);
        var tomorrow = Noon + (24 * HourMs);
        counts.Add(tomorrow, 1);
        counts.Add(Noon + 5, 4); // a day behind the hour now in its slot

        var last = counts.Last(tomorrow);
        Assert.Equal((tomorrow, 1L), last[^1]);
        Assert.Equal(1, last.Sum(h => h.Count));
    }
}
