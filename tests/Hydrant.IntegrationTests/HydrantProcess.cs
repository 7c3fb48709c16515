using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Hydrant.IntegrationTests;

/// <summary>
/// A real `hydrant` process (the CLI's own build output). Servers bind 127.0.0.1 on a port the OS
/// picks; the test waits for the "hydrant: listening on" line. Only this process is ever stopped.
/// </summary>
public sealed partial class HydrantProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();

    private HydrantProcess(Process process)
    {
        _process = process;
    }

    public static string CliPath { get; } = typeof(HydrantProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "HydrantCli").Value!;

    public string BaseUrl { get; private set; } = string.Empty;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts `hydrant serve` on the data folder and waits until it listens.</summary>
    public static async Task<HydrantProcess> ServeAsync(string dataPath, IEnumerable<string>? args = null, IDictionary<string, string>? environment = null)
    {
        var all = new List<string> { "serve", "--data", dataPath, "--urls", "http://127.0.0.1:0" };
        all.AddRange(args ?? []);
        var server = Start(all, environment);
        using var deadline = new CancellationTokenSource(StartDeadline);
        try
        {
            server.BaseUrl = await server._listening.Task.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await server.DisposeAsync();
            throw new TimeoutException($"hydrant did not start listening within {StartDeadline}:\n{server.Output}");
        }
        catch (InvalidOperationException)
        {
            throw new InvalidOperationException($"hydrant exited before listening (code {server.ExitCode}):\n{server.Output}");
        }
        return server;
    }

    /// <summary>Runs a CLI command to completion and returns its exit code and output; <paramref name="stdin"/> is piped to it.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(IEnumerable<string> args, TimeSpan? timeout = null, byte[]? stdin = null)
    {
        var info = StartInfo(args, null);
        info.RedirectStandardInput = stdin is not null;
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts the process without waiting for anything.</summary>
    public static HydrantProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        var process = new Process { StartInfo = StartInfo(args, environment), EnableRaisingEvents = true };
        var wrapper = new HydrantProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.OnLine(e.Data);
        process.Exited += (_, _) => wrapper._listening.TrySetException(new InvalidOperationException("exited"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then wait for a graceful exit.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, 15);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                await KillAsync();
            }
        }
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return info;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.AppendLine(line);
        }
        const string marker = "hydrant: listening on ";
        if (line.StartsWith(marker, StringComparison.Ordinal))
        {
            _listening.TrySetResult(line[marker.Length..].Trim());
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SendSignal(int pid, int signal);
}
