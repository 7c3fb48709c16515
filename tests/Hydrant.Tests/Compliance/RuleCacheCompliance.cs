using Hydrant.Detection;
using Hydrant.Enrichment.Intel;
using Hydrant.Redis;
using Hydrant.RocksDb;
using Hydrant.Storage;
using Hydrant.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hydrant.Tests.Compliance;

/// <summary>
/// What every rule cache does, run unchanged against each backend on a real engine: the node's
/// own RocksDB and Redis. <see cref="OpenNodes"/> gives the caches of two nodes that share it (for
/// the single-node backend, the same cache twice).
/// </summary>
public abstract class RuleCacheCompliance : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    protected abstract (IRuleCache First, IRuleCache Second) OpenNodes();

    /// <summary>The intel list cache of the first node, kept by the same mechanism beside the rules.</summary>
    protected abstract IIntelListCache OpenIntelLists();

    [Fact]
    public async Task Rules_are_saved_replaced_and_deleted_and_every_change_moves_the_version()
    {
        var (cache, _) = OpenNodes();
        var empty = await cache.LoadAsync(CancellationToken.None);
        Assert.Empty(empty.Rules);

        await cache.SaveAsync("r1", "title: one", CancellationToken.None);
        await cache.SaveAsync("r2", "title: two", CancellationToken.None);
        await cache.SaveAsync("r1", "title: one again", CancellationToken.None);
        var saved = await cache.LoadAsync(CancellationToken.None);
        Assert.Equal([("r1", "title: one again"), ("r2", "title: two")], saved.Rules.OrderBy(r => r.Id, StringComparer.Ordinal));
        Assert.Equal(empty.Version + 3, saved.Version);
        Assert.Equal(saved.Version, await cache.VersionAsync(CancellationToken.None));

        Assert.True(await cache.DeleteAsync("r1", CancellationToken.None));
        Assert.False(await cache.DeleteAsync("r1", CancellationToken.None));
        var deleted = await cache.LoadAsync(CancellationToken.None);
        Assert.Equal([("r2", "title: two")], deleted.Rules);
        Assert.Equal(saved.Version + 1, deleted.Version); // deleting nothing changes nothing
    }

    [Fact]
    public async Task A_change_by_one_node_is_announced_to_the_others_and_seen_in_what_they_load()
    {
        var (first, second) = OpenNodes();
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = second.Subscribe(announced.SetResult);
        await EnsureSubscribedAsync();

        await first.SaveAsync("shared", "title: shared", CancellationToken.None);
        await announced.Task.WaitAsync(Deadline);
        Assert.Contains(("shared", "title: shared"), (await second.LoadAsync(CancellationToken.None)).Rules);
        Assert.Equal(await first.VersionAsync(CancellationToken.None), await second.VersionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Intel_lists_are_kept_apart_from_the_rules_with_a_version_of_their_own()
    {
        var (rules, _) = OpenNodes();
        var lists = OpenIntelLists();
        var rulesBefore = await rules.VersionAsync(CancellationToken.None);
        var listsBefore = await lists.VersionAsync(CancellationToken.None);
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = lists.Subscribe(() => announced.TrySetResult());
        await EnsureSubscribedAsync();

        await lists.SaveAsync("feodo", "{\"text\":\"1.2.3.4\"}", CancellationToken.None);
        await announced.Task.WaitAsync(Deadline);
        await rules.SaveAsync("feodo", "title: a rule of the same name", CancellationToken.None);
        var loaded = await lists.LoadAsync(CancellationToken.None);
        Assert.Equal([("feodo", "{\"text\":\"1.2.3.4\"}")], loaded.Lists);
        Assert.Equal((listsBefore + 1, rulesBefore + 1), (loaded.Version, await rules.VersionAsync(CancellationToken.None)));
        Assert.True(await lists.DeleteAsync("feodo", CancellationToken.None));
        Assert.Contains(("feodo", "title: a rule of the same name"), (await rules.LoadAsync(CancellationToken.None)).Rules);
    }

    /// <summary>Completes once a subscription just made is in force.</summary>
    protected virtual Task EnsureSubscribedAsync() => Task.CompletedTask;

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

public sealed class RocksDbRuleCacheCompliance : RuleCacheCompliance
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hydrant-rules-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services;

    public RocksDbRuleCacheCompliance()
    {
        _services = new ServiceCollection()
            .AddSingleton(new StoreOptions { DataPath = _directory })
            .AddMetrics()
            .AddSingleton<IngestStats>()
            .AddSingleton(TimeProvider.System)
            .AddHydrantRocksDb()
            .AddRocksDbRuleCache()
            .BuildServiceProvider();
    }

    protected override (IRuleCache First, IRuleCache Second) OpenNodes()
    {
        var cache = _services.GetRequiredService<IRuleCache>();
        return (cache, cache);
    }

    protected override IIntelListCache OpenIntelLists() => _services.GetRequiredService<IIntelListCache>();

    public override void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
        base.Dispose();
    }
}

public sealed class RedisRuleCacheCompliance : RuleCacheCompliance
{
    private readonly string _prefix = $"test:{Guid.NewGuid():N}:";
    private readonly ConnectionMultiplexer _first = ConnectionMultiplexer.Connect(TestServers.Redis);
    private readonly ConnectionMultiplexer _second = ConnectionMultiplexer.Connect(TestServers.Redis);

    protected override (IRuleCache First, IRuleCache Second) OpenNodes() => (new RedisRuleCache(_first, _prefix), new RedisRuleCache(_second, _prefix));

    protected override IIntelListCache OpenIntelLists() => new RedisIntelListCache(_first, _prefix);

    // Subscribe sends SUBSCRIBE without waiting; a PING on the same subscriber connection answers after it.
    protected override Task EnsureSubscribedAsync() => _second.GetSubscriber().PingAsync();

    public override void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
        base.Dispose();
    }
}
