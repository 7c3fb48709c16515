using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Hydrant.Threading;

/// <summary>
/// Threads below ingest's CPU priority (nice on Linux), for work that competes with ingest for the
/// same cores and may wait for a burst's end (the spool holds the difference; BENCHMARKS.md): an
/// instance is one thread at the lowest priority (nice 19) running work in order (DuckDB's writes);
/// <see cref="RunOnOwnThread"/> runs one blocking piece of work (an ad-hoc query), and
/// <see cref="RunLoop"/> an asynchronous loop (a spool consumer's), each on a thread of its own.
/// </summary>
public sealed partial class LowPriorityWorker : IDisposable
{
    private const int LowestPriority = 19;
    private const int PriorityOfProcess = 0; // PRIO_PROCESS: with a thread id, that one thread

    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public LowPriorityWorker(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Whether the thread runs below normal priority (false where the OS would not lower it).</summary>
    public bool Lowered { get; private set; }

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    /// <summary>
    /// Runs one piece of work on a thread of its own at the lowest priority: an ad-hoc query blocks
    /// its thread for as long as it runs, which must be neither a thread-pool thread (eight queries
    /// would starve the requests ingest answers on) nor CPU taken from ingest.
    /// </summary>
    public static Task<T> RunOnOwnThread<T>(string name, Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Lower(LowestPriority);
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// Runs an asynchronous loop on a thread of its own at <paramref name="niceness"/> (0 normal,
    /// 19 lowest): the loop's continuations come back to that thread, so its work stays below
    /// ingest's priority while it awaits. Work it hands elsewhere (a thread-pool call, an await
    /// that leaves its context) runs at that place's priority.
    /// </summary>
    public static Task RunLoop(string name, int niceness, Func<Task> loop)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Lower(niceness);
            var context = new LoopContext();
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                var task = loop();
                task.ContinueWith(_ => context.Complete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                context.Run();
                done.SetFromTask(task);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }

    public void Dispose()
    {
        if (_work.IsAddingCompleted)
        {
            return;
        }
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    private void Run()
    {
        Lowered = Lower(LowestPriority);
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    private static bool Lower(int niceness)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            return SetPriority(PriorityOfProcess, GetThreadId(), niceness) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Runs what is posted to it on the one thread that calls <see cref="Run"/>, until completed; later posts go to the thread pool.</summary>
    private sealed class LoopContext : SynchronizationContext
    {
        private readonly Channel<(SendOrPostCallback Callback, object? State)> _posted = Channel.CreateUnbounded<(SendOrPostCallback, object?)>(new UnboundedChannelOptions { SingleReader = true });

        public override void Post(SendOrPostCallback d, object? state)
        {
            if (!_posted.Writer.TryWrite((d, state)))
            {
                ThreadPool.QueueUserWorkItem(s => d(s), state, preferLocal: false);
            }
        }

        public override SynchronizationContext CreateCopy() => this;

        public void Complete() => _posted.Writer.TryComplete();

        public void Run()
        {
            var reader = _posted.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var posted))
                {
                    posted.Callback(posted.State);
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);
}
