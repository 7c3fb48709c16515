using Hydrant.Spool;

namespace Hydrant.Tests.Spool;

public sealed class SpoolLagTests
{
    [Fact]
    public void Lag_in_seconds_is_the_age_of_the_first_sample_past_the_consumer()
    {
        var lag = new SpoolLag(TimeSpan.FromMinutes(10));
        lag.Sample(1_000, 100);
        lag.Sample(2_000, 250);
        lag.Sample(3_000, 400);
        Assert.Equal(0, lag.SecondsBehind(400, 400, 3_500)); // caught up
        Assert.Equal(2.5, lag.SecondsBehind(50, 400, 3_500)); // entry 50 was there at 1 s
        Assert.Equal(1.5, lag.SecondsBehind(200, 400, 3_500)); // entry 200 arrived by 2 s
        Assert.Equal(0, lag.SecondsBehind(400, 450, 3_500)); // appended after the last sample
    }

    [Fact]
    public void Samples_older_than_the_window_are_dropped_and_lag_reads_as_at_least_the_window()
    {
        var lag = new SpoolLag(TimeSpan.FromSeconds(2));
        for (var second = 0; second <= 10; second++)
        {
            lag.Sample(second * 1_000L, 100 + second);
        }
        Assert.Equal(2, lag.SecondsBehind(0, 110, 10_000));
    }
}
