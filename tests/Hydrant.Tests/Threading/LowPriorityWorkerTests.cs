using Hydrant.Threading;

namespace Hydrant.Tests.Threading;

public sealed class LowPriorityWorkerTests
{
    [Fact]
    public async Task A_loop_resumes_after_every_await_on_its_own_thread_at_the_niceness_asked()
    {
        var seen = new List<(string? Thread, int? Niceness)>();
        await LowPriorityWorker.RunLoop("loop-under-test", 7, async () =>
        {
            seen.Add((Thread.CurrentThread.Name, Niceness()));
            await Task.Delay(5);
            seen.Add((Thread.CurrentThread.Name, Niceness()));
            await Task.Run(() => Thread.Sleep(5));
            seen.Add((Thread.CurrentThread.Name, Niceness()));
            await Task.Yield();
            seen.Add((Thread.CurrentThread.Name, Niceness()));
        }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(4, seen.Count);
        Assert.All(seen, s => Assert.Equal("loop-under-test", s.Thread));
        if (OperatingSystem.IsLinux())
        {
            Assert.All(seen, s => Assert.Equal(7, s.Niceness));
        }
    }

    [Fact]
    public async Task A_loop_that_fails_after_an_await_fails_the_task_with_its_exception()
    {
        var loop = LowPriorityWorker.RunLoop("failing-loop", 5, async () =>
        {
            await Task.Delay(5);
            throw new InvalidOperationException("the loop's own failure");
        });

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("the loop's own failure", failure.Message);
    }

    [Fact]
    public async Task Work_posted_after_the_loop_ended_still_runs()
    {
        SynchronizationContext? context = null;
        await LowPriorityWorker.RunLoop("ended-loop", 5, () =>
        {
            context = SynchronizationContext.Current;
            return Task.CompletedTask;
        }).WaitAsync(TimeSpan.FromSeconds(30));

        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        context!.Post(_ => ran.SetResult(), null);
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>The calling thread's nice value, from /proc (field 19 of its stat line); null off Linux.</summary>
    private static int? Niceness()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }
}
