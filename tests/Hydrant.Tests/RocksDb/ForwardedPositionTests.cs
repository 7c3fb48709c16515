using System.Text;
using Hydrant.Detection.Alerts;

namespace Hydrant.Tests.RocksDb;

/// <summary>The position in the events other nodes forwarded is a field of the detector's commit, kept beside its checkpoint.</summary>
public sealed class ForwardedPositionTests : IDisposable
{
    private readonly EmbeddedStore _node = new(new FixedClock(DateTimeOffset.UtcNow));

    private static DetectorCommit CommitOf(long checkpoint, IReadOnlyDictionary<string, byte[]?> state, string? forwarded = null) =>
        new([], null, state, checkpoint) { ForwardedPosition = forwarded };

    [Fact]
    public async Task A_committed_position_is_read_back_after_a_restart_and_a_commit_without_one_leaves_it()
    {
        var store = _node.OpenAlertStore();
        Assert.Null(await store.LoadForwardedPositionAsync(CancellationToken.None));
        await store.CommitAsync(CommitOf(10, new Dictionary<string, byte[]?>(), forwarded: "1733000000000-5"), CancellationToken.None);
        await store.CommitAsync(CommitOf(20, new Dictionary<string, byte[]?>()), CancellationToken.None);

        _node.Close();
        using var reopened = new EmbeddedStore(_node.Clock, _node.Directory_);
        store = reopened.OpenAlertStore();
        Assert.Equal("1733000000000-5", await store.LoadForwardedPositionAsync(CancellationToken.None));
        Assert.Equal(20, await store.LoadCheckpointAsync(CancellationToken.None));
        Assert.Empty(await store.LoadStateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_position_an_earlier_build_kept_in_the_window_state_is_read_once_and_never_restored_as_a_window()
    {
        var store = _node.OpenAlertStore();
        // As builds before the commit field stored it: a state entry beside the windows.
        await store.CommitAsync(CommitOf(10, new Dictionary<string, byte[]?>
        {
            ["shared/forwarded"] = Encoding.ASCII.GetBytes("1733000000000-1"),
            ["window-a"] = [1, 2, 3],
        }), CancellationToken.None);

        Assert.Equal("1733000000000-1", await store.LoadForwardedPositionAsync(CancellationToken.None));
        Assert.Equal(["window-a"], (await store.LoadStateAsync(CancellationToken.None)).Keys);

        await store.CommitAsync(CommitOf(20, new Dictionary<string, byte[]?>(), forwarded: "1733000000000-9"), CancellationToken.None);
        Assert.Equal("1733000000000-9", await store.LoadForwardedPositionAsync(CancellationToken.None));
        Assert.Equal(["window-a"], (await store.LoadStateAsync(CancellationToken.None)).Keys);
    }

    public void Dispose() => _node.Dispose();
}
