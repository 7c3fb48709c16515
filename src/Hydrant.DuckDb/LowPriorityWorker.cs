using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Hydrant.DuckDb;

/// <summary>
/// One dedicated thread at the lowest CPU priority (nice 19 on Linux) that runs DuckDB's write
/// work in order. Loading analytics competes with ingest for the same cores; at nice 19 the loader
/// gets the CPU ingest leaves idle, so a burst is acknowledged at full speed and loaded after it
/// (the spool holds the difference). Measured in BENCHMARKS.md.
/// </summary>
internal sealed partial class LowPriorityWorker : IDisposable
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
            Lower();
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
        Lowered = Lower();
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    private static bool Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            return SetPriority(PriorityOfProcess, GetThreadId(), LowestPriority) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);
}
