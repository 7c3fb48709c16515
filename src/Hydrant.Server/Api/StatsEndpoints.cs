using Hydrant.Keys;
using Hydrant.Server.Auth;
using Hydrant.Storage;

namespace Hydrant.Server.Api;

public static class StatsEndpoints
{
    public static void MapStats(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/stats", (IngestStats stats, IIngestLog spool, StoreOptions store) =>
            {
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
            .WithSummary("Ingest counters, spool depth and writes per shard");
}
