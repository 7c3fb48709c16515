using Hydrant.Query;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Tests.RocksDb;

public sealed class RocksDbStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly long NowMs = Now.ToUnixTimeMilliseconds();
    private const long Hour = 3_600_000;

    private static string Event(string id, long ts, string type = "auth.failure", string ip = "10.0.0.1") =>
        $$"""{"id":"{{id}}","timestamp":{{ts}},"eventType":"{{type}}","sourceIP":"{{ip}}"}""" + "\n";

    [Fact]
    public async Task Resending_an_event_id_stores_it_once()
    {
        using var db = new EmbeddedStore(new FixedClock(Now));
        var first = await db.AppendAsync(Event("same", NowMs - Hour) + Event("same", NowMs - Hour) + Event("other", NowMs - Hour));
        var again = await db.AppendAsync(Event("same", NowMs - Hour));
        Assert.Equal(new AppendResult(2, 1), first);
        Assert.Equal(new AppendResult(0, 1), again);
        var ids = await db.QueryAllAsync(new EventQuery { FromMs = NowMs - (2 * Hour), ToMs = NowMs });
        Assert.Equal(["other", "same"], ids.Order());
    }

    [Fact]
    public async Task A_stored_event_costs_five_memtable_inserts_one_past_the_hot_window_four_and_a_duplicate_none()
    {
        using var db = new EmbeddedStore(new FixedClock(Now));
        db.Log.RegisterConsumer("reader", 0); // the spool is kept: no trim deletes in the counts
        var (inserts, wal, bytes) = (db.Writes.MemtableInserts, db.Writes.WalBytes, db.Stats.Bytes);
        await db.AppendAsync(string.Concat(Enumerable.Range(0, 100).Select(i => Event($"recent-{i}", NowMs - Hour))));
        // The spool entry, the main row, the source index, the hot copy and the id.
        Assert.Equal(500, db.Writes.MemtableInserts - inserts);
        // The WAL holds each event's JSON (the main row's value) and its keys.
        Assert.True(db.Writes.WalBytes - wal > db.Stats.Bytes - bytes, $"{db.Writes.WalBytes - wal} WAL bytes for {db.Stats.Bytes - bytes} bytes of events");

        inserts = db.Writes.MemtableInserts;
        await db.AppendAsync(string.Concat(Enumerable.Range(0, 100).Select(i => Event($"old-{i}", NowMs - (30 * Hour)))));
        Assert.Equal(400, db.Writes.MemtableInserts - inserts);

        inserts = db.Writes.MemtableInserts;
        Assert.Equal(new AppendResult(0, 1), await db.AppendAsync(Event("recent-7", NowMs - Hour)));
        Assert.Equal(0, db.Writes.MemtableInserts - inserts);
    }

    [Fact]
    public async Task Concurrent_requests_repeating_the_same_ids_store_each_once_without_deadlock()
    {
        using var db = new EmbeddedStore(new FixedClock(Now));
        var ids = Enumerable.Range(0, 50).Select(i => $"race-{i}").ToList();
        var requests = Enumerable.Range(0, 20).Select(r => Task.Run(() =>
        {
            // Each request sends the ids in its own order, so reservations cross between requests.
            var order = ids.OrderBy(id => HashCode.Combine(id, r)).ToList();
            return db.AppendAsync(string.Concat(order.Select(id => Event(id, NowMs - Hour))));
        }));
        var results = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(50, results.Sum(r => r.Stored));
        Assert.Equal(20 * 50 - 50, results.Sum(r => r.Duplicates));
        Assert.Equal(ids.Order(), (await db.QueryAllAsync(new EventQuery { FromMs = NowMs - (2 * Hour), ToMs = NowMs })).Order());
        Assert.Equal(50, db.Log.NextSequence);
    }

    [Fact]
    public async Task Concurrent_appends_are_group_committed_and_all_land()
    {
        using var db = new EmbeddedStore(new FixedClock(Now));
        var appends = Enumerable.Range(0, 64).Select(i => Task.Run(() => db.AppendAsync(Event($"c{i}", NowMs - Hour, ip: $"10.0.1.{i}"))));
        var results = await Task.WhenAll(appends);
        Assert.All(results, r => Assert.Equal(new AppendResult(1, 0), r));
        Assert.Equal(64, (await db.QueryAllAsync(new EventQuery { FromMs = NowMs - (2 * Hour), ToMs = NowMs, Limit = 10 })).Count);
        Assert.Equal(64, db.Log.NextSequence);
        Assert.Equal(64, db.Stats.ShardWrites().Sum());
        Assert.InRange(db.Stats.Commits, 1, 64);
    }

    [Fact]
    public async Task Retention_drops_old_hot_days_and_months_past_retention()
    {
        var clock = new FixedClock(Now);
        using var db = new EmbeddedStore(clock, options: new StoreOptions { Retention = TimeSpan.FromDays(60) });
        var july = new DateTimeOffset(2026, 7, 10, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var october = new DateTimeOffset(2026, 10, 10, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        clock.Now = DateTimeOffset.FromUnixTimeMilliseconds(july + Hour);
        await db.AppendAsync(Event("july", july, ip: "10.0.0.9"));
        clock.Now = DateTimeOffset.FromUnixTimeMilliseconds(october + Hour);
        await db.AppendAsync(Event("october", october, ip: "10.0.0.9"));
        clock.Now = Now;

        var result = await db.Store.ApplyRetentionAsync(Now, db.Options.Retention, CancellationToken.None);

        Assert.Equal(["2026-07-10", "2026-10-10"], result.DroppedHotDays);
        Assert.Equal(["2026-07"], result.DroppedMonths);
        var everything = new EventQuery { SourceIP = "10.0.0.9", FromMs = 0, ToMs = NowMs };
        var plan = new QueryPlan(PlanIndex.Source, [["src#2026-10#10.0.0.9"], ["src#2026-07#10.0.0.9"]]);
        var page = await db.Store.QueryAsync(everything, plan, CancellationToken.None);
        Assert.Single(page.Events);
        // The dropped month's ids are gone too: the July event can be stored again.
        clock.Now = DateTimeOffset.FromUnixTimeMilliseconds(july + Hour);
        Assert.Equal(new AppendResult(1, 0), await db.AppendAsync(Event("july", july, ip: "10.0.0.9")));
    }

    [Fact]
    public async Task Spool_keeps_entries_until_every_consumer_has_passed_them()
    {
        using var db = new EmbeddedStore(new FixedClock(Now));
        db.Log.RegisterConsumer("slow", 0);
        await db.AppendAsync(Event("s1", NowMs - Hour) + Event("s2", NowMs - Hour) + Event("s3", NowMs - Hour));
        Assert.Equal(3, db.Log.Depth);
        var entries = db.Log.Read(0, 10);
        Assert.Equal([0L, 1L, 2L], entries.Select(e => e.Sequence));
        Assert.Contains("\"s2\"", System.Text.Encoding.UTF8.GetString(entries[1].Json.Span), StringComparison.Ordinal);

        db.Log.ReportProgress("slow", 2); // trims below the slowest consumer
        Assert.Equal(1, db.Log.Depth);
        await db.AppendAsync(Event("s4", NowMs - Hour));
        Assert.Equal([2L, 3L], db.Log.Read(0, 10).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Data_and_spool_position_survive_a_reopen()
    {
        var clock = new FixedClock(Now);
        var directory = Path.Combine(Path.GetTempPath(), "hydrant-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var db = new EmbeddedStore(clock, directory))
            {
                await db.AppendAsync(Event("r1", NowMs - Hour) + Event("r2", NowMs - Hour));
            }
            using var reopened = new EmbeddedStore(clock, directory);
            Assert.Equal(2, reopened.Log.NextSequence);
            Assert.Equal(new AppendResult(0, 1), await reopened.AppendAsync(Event("r1", NowMs - Hour)));
            Assert.Equal(2, (await reopened.QueryAllAsync(new EventQuery { FromMs = NowMs - (2 * Hour), ToMs = NowMs })).Count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
