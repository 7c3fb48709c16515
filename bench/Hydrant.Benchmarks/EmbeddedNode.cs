using Hydrant.RocksDb;
using Hydrant.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.Benchmarks;

/// <summary>The embedded backends of one node (RocksDB spool, event store, alert store and triage) in a folder of its own, removed on dispose.</summary>
internal sealed class EmbeddedNode : IDisposable
{
    private readonly string _directory;
    private readonly ServiceProvider _services;

    public EmbeddedNode(string name)
    {
        _directory = Path.Combine(Path.GetTempPath(), $"hydrant-bench-{name}-{Guid.NewGuid():N}");
        _services = new ServiceCollection()
            .AddSingleton(new StoreOptions { DataPath = _directory })
            .AddMetrics()
            .AddSingleton<IngestStats>()
            .AddSingleton(TimeProvider.System)
            .AddLogging()
            .AddHydrantRocksDb()
            .BuildServiceProvider();
    }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
