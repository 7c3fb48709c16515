using Hydrant.Analytics;
using Hydrant.Keys;
using Hydrant.Server.Auth;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Server.Api;

public static class StatsEndpoints
{
    public static void MapStats(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/stats", async (IngestStats stats, IIngestLog spool, StoreOptions store, IAnalyticsStore analytics, SpoolConsumerRunner consumers, CancellationToken cancellationToken) =>
            {
                var loaded = await analytics.StatusAsync(cancellationToken);
                var loaderLag = consumers.LagOf(AnalyticsLoader.ConsumerName);
                var shards = stats.ShardWrites();
                var mean = shards.Average();
                return Results.Json(new
                {
                    ingest = new
                    {
                        requests = stats.Requests,
                        accepted = stats.Accepted,
                        rejected = stats.Rejected,
                        duplicates = stats.Duplicates,
                        throttled = stats.Throttled,
                        commits = stats.Commits,
                        bytes = stats.Bytes,
                    },
                    spool = new { depth = spool.Depth, nextSequence = spool.NextSequence, highWaterMark = store.SpoolHighWaterMark },
                    analytics = new
                    {
                        rows = loaded.Rows,
                        position = loaded.Checkpoint,
                        lagEvents = Math.Max(0, spool.NextSequence - loaded.Checkpoint),
                        lagSeconds = loaderLag?.Seconds ?? 0,
                        schemaVersion = loaded.SchemaVersion,
                    },
                    consumers = consumers.Lags().Select(l => new { name = l.Consumer, position = l.Position, lagEvents = l.Events, lagSeconds = l.Seconds }),
                    shards = new
                    {
                        count = SourceShard.MainShards,
                        writes = shards,
                        maxOverMean = mean > 0 ? shards.Max() / mean : 0,
                    },
                }, ApiJson.Options);
            })
            .RequireScope(Scopes.Query)
            .WithName("Stats")
            .WithSummary("Ingest counters, spool depth, analytics loading and writes per shard");
}
