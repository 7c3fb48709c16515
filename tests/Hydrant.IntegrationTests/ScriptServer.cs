using System.Diagnostics;
using System.Reflection;

namespace Hydrant.IntegrationTests;

/// <summary>
/// A PostgreSQL, Redis or dynalite of one test's own, started and stopped by the project's scripts
/// (scripts/{name}.sh) in the test's folder: stopping it stops only that process, by the id in its
/// pid file, and starting it again brings it back on the same port with its data.
/// </summary>
public sealed class ScriptServer : IAsyncDisposable
{
    private static readonly string Scripts = typeof(ScriptServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "HydrantScripts").Value!;

    private readonly string _name;
    private readonly string _directory;

    private ScriptServer(string name, string directory, int port)
    {
        _name = name;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public bool Running { get; private set; } = true;

    public static async Task<ScriptServer> StartAsync(string name, string directory)
    {
        var output = await RunAsync(name, "start", directory);
        var port = int.Parse(output.Trim().Split('\n')[^1].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
        return new ScriptServer(name, directory, port);
    }

    public async Task StopAsync()
    {
        await RunAsync(_name, "stop", _directory);
        Running = false;
    }

    public async Task RestartAsync()
    {
        await RunAsync(_name, "start", _directory);
        Running = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Running)
        {
            await StopAsync();
        }
    }

    private static async Task<string> RunAsync(string name, string command, string directory)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(Scripts, name + ".sh"), command, directory })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/{name}.sh {command} failed ({process.ExitCode}): {await stderr}");
        }
        return await stdout;
    }
}
