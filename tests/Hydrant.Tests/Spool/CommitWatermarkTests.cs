using Hydrant.Spool;

namespace Hydrant.Tests.Spool;

public sealed class CommitWatermarkTests
{
    [Fact]
    public void The_watermark_advances_only_over_a_contiguous_finished_prefix()
    {
        var watermark = new CommitWatermark(10);
        var a = watermark.Allocate(5);
        var b = watermark.Allocate(3);
        var c = watermark.Allocate(2);
        Assert.Equal((10L, 15L, 18L, 20L), (a.Start, b.Start, c.Start, c.End));

        watermark.Complete(b);
        Assert.Equal(10, watermark.Committed);
        watermark.Complete(a);
        Assert.Equal(18, watermark.Committed);
        watermark.Complete(c);
        Assert.Equal(20, watermark.Committed);
    }

    [Fact]
    public async Task Waiters_are_released_when_the_watermark_passes_their_sequence()
    {
        var watermark = new CommitWatermark(0);
        var range = watermark.Allocate(4);
        var waiting = watermark.WaitPastAsync(2, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        watermark.Complete(range);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(waiting.IsCompletedSuccessfully);
    }
}
