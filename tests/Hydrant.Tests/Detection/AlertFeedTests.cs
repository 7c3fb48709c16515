using Hydrant.Detection.Alerts;

namespace Hydrant.Tests.Detection;

/// <summary>A live subscriber sees each alert as it is now, and a flood of updates cannot push a new alert out.</summary>
public sealed class AlertFeedTests
{
    private static Alert Version(string id, long count) => Alert.Raise("rule", "title", "high", null, [], count, 0, 0) with { Id = id };

    private static List<Alert> Drain(AlertSubscription reader)
    {
        var read = new List<Alert>();
        while (reader.TryRead(out var alert))
        {
            read.Add(alert);
        }
        return read;
    }

    [Fact]
    public void Versions_of_one_alert_waiting_are_read_once_as_the_latest_in_the_first_ones_place()
    {
        var feed = new AlertFeed();
        var reader = feed.Subscribe(CancellationToken.None);
        feed.Publish(Version("a", 1));
        feed.Publish(Version("b", 1));
        feed.Publish(Version("a", 2));
        feed.Publish(Version("a", 3));

        var read = Drain(reader);

        Assert.Equal(["a", "b"], read.Select(a => a.Id));
        Assert.Equal(3, read[0].Count);
    }

    [Fact]
    public void A_new_alert_survives_any_number_of_updates_to_another_while_the_subscriber_is_behind()
    {
        var feed = new AlertFeed();
        var reader = feed.Subscribe(CancellationToken.None);
        feed.Publish(Version("growing", 1));
        feed.Publish(Version("new", 1));
        for (var i = 2; i < 10 * AlertFeed.SubscriberCapacity; i++)
        {
            feed.Publish(Version("growing", i));
        }

        Assert.Equal(["growing", "new"], Drain(reader).Select(a => a.Id));
    }

    [Fact]
    public void Past_its_capacity_in_distinct_alerts_a_subscriber_loses_the_oldest()
    {
        var feed = new AlertFeed();
        var reader = feed.Subscribe(CancellationToken.None);
        for (var i = 0; i < AlertFeed.SubscriberCapacity + 5; i++)
        {
            feed.Publish(Version($"alert-{i}", 1));
        }

        var read = Drain(reader);

        Assert.Equal(AlertFeed.SubscriberCapacity, read.Count);
        Assert.Equal("alert-5", read[0].Id);
        Assert.Equal($"alert-{AlertFeed.SubscriberCapacity + 4}", read[^1].Id);
        Assert.Equal(5, feed.Dropped);
        Assert.Equal(5, reader.TakeDropped());
        Assert.Equal(0, reader.TakeDropped());
    }

    [Fact]
    public async Task A_waiting_reader_wakes_for_a_published_alert_and_ends_when_unsubscribed()
    {
        var feed = new AlertFeed();
        using var unsubscribe = new CancellationTokenSource();
        var reader = feed.Subscribe(unsubscribe.Token);
        var reading = Task.Run(async () =>
        {
            var read = new List<string>();
            await foreach (var alert in reader.ReadAllAsync())
            {
                read.Add(alert.Id);
            }
            return read;
        });

        feed.Publish(Version("a", 1));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (reader.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        await unsubscribe.CancelAsync();

        Assert.Equal(["a"], await reading.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
