using System.Text;
using Hydrant.Events;
using Hydrant.Generation;

namespace Hydrant.Tests.Generation;

public sealed class EventGeneratorTests
{
    private static readonly long End = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static ParsedBatch Generate(GeneratorOptions options)
    {
        using var buffer = new PooledBuffer();
        new EventGenerator(options).WriteNdjson(buffer);
        return new EventParser(EventLimits.Default, new FixedClock(DateTimeOffset.FromUnixTimeMilliseconds(End))).Parse(buffer.Span);
    }

    [Fact]
    public void Generated_events_are_all_valid_sized_and_inside_the_range()
    {
        using var batch = Generate(new GeneratorOptions { Count = 2000, Days = 2, Sources = 50, EndMs = End });
        Assert.Empty(batch.Rejections);
        Assert.Equal(2000, batch.Events.Count);
        Assert.All(batch.Events, e => Assert.InRange(e.TimestampMs, End - (2 * 86_400_000L), End));
        Assert.InRange(batch.Events.Average(e => e.Json.Length), 900, 1200);
        Assert.True(batch.Events.Select(e => e.EventType).Distinct().Count() >= 5);
    }

    [Fact]
    public void Source_volumes_are_heavy_tailed()
    {
        using var batch = Generate(new GeneratorOptions { Count = 20_000, Sources = 1000, SizeBytes = 0, EndMs = End });
        var counts = batch.Events.GroupBy(e => e.SourceIP).Select(g => g.Count()).OrderDescending().ToList();
        Assert.True(counts[0] > 20 * counts[counts.Count / 2], "the busiest source should far outweigh the median one");
    }

    [Fact]
    public void The_same_seed_gives_the_same_events_and_an_attacker_shows_up()
    {
        var options = new GeneratorOptions { Count = 500, Attacker = "203.0.113.9", EndMs = End, Seed = 7 };
        using var a = Generate(options);
        using var b = Generate(options);
        Assert.Equal(a.Events.Select(e => Encoding.UTF8.GetString(e.Json.Span)), b.Events.Select(e => Encoding.UTF8.GetString(e.Json.Span)));
        Assert.Contains(a.Events, e => e.SourceIP == "203.0.113.9" && e.EventType == "auth.failure");
        Assert.Equal("gen-7-0", a.Events[0].Id);
    }
}
