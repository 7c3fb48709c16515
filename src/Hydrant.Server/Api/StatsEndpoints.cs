using Hydrant.Analytics;
using Hydrant.Detection;
using Hydrant.DynamoDb;
using Hydrant.Keys;
using Hydrant.Server.Alerts;
using Hydrant.Server.Auth;
using Hydrant.Server.Hosting;
using Hydrant.Server.Monitoring;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Server.Api;

public static class StatsEndpoints
{
    private static readonly TimeSpan AnalyticsStatusLimit = TimeSpan.FromSeconds(5);

    /// <summary>How far back a history request reaches (?seconds=, default the whole hour kept), or null when it is not 1 to 3600.</summary>
    private static long? SecondsOf(HttpContext context) =>
        context.Request.Query["seconds"].ToString() is not { Length: > 0 } text ? 3600
        : long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 3600 ? seconds
        : null;

    public static void MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/stats/history", (HttpContext context, PipelineHistory history) =>
            {
                if (SecondsOf(context) is not { } seconds)
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "seconds: a whole number from 1 to 3600");
                }
                return Results.Json(new
                {
                    intervalSeconds = history.Interval.TotalSeconds,
                    samples = PipelineHistory.Describe(history.Since(seconds)),
                    alertsPerHour = PipelineHistory.DescribeHours(history.AlertsPerHour()),
                }, ApiJson.Options);
            })
            .Takes("seconds")
            .RequireScope(Scopes.Query)
            .WithName("StatsHistory")
            .WithSummary("The pipeline over the last hour (or ?seconds=), one sample every Hydrant:Stats:SampleSeconds: ingest rates, spool depth, each consumer's rate and lag, alerts raised and updated per second; and alerts raised per UTC hour over the last 24 (since the node started)");
        app.MapGet("/v1/stats/history/chart", (HttpContext context, PipelineHistory history, IngestStats stats, TimeProvider time) =>
            {
                var series = context.Request.Query["series"].ToString();
                if (!PipelineCharts.Series.Contains(series))
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "series: one of " + string.Join(", ", PipelineCharts.Series));
                }
                if (SecondsOf(context) is not { } seconds)
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "seconds: a whole number from 1 to 3600");
                }
                context.Response.Headers.CacheControl = "no-store";
                var svg = series switch
                {
                    "alerts-per-hour" => PipelineCharts.RenderHourly(history.AlertsPerHour()),
                    "heat" => PipelineCharts.RenderHeat(stats.ShardWrites()),
                    _ => PipelineCharts.Render(history.Since(seconds), series, time.GetUtcNow().ToUnixTimeMilliseconds()),
                };
                return Results.Text(svg, "image/svg+xml");
            })
            .Takes("series", "seconds")
            .RequireScope(Scopes.Query)
            .WithName("StatsHistoryChart")
            .WithSummary("One chart of the pipeline as SVG: series=ingest|consumers|lag|alerts|spool over ?seconds=, alerts-per-hour (the last 24 UTC hours), heat (events per main shard since the node started)");
        app.MapGet("/v1/stats", async (IngestStats stats, IIngestLog spool, IDeadLetterStore deadLetters, StoreOptions store, IAnalyticsStore analytics, SpoolConsumerRunner consumers, RuleRegistry rules, HydrantSettings settings, IServiceProvider services, CancellationToken cancellationToken) =>
            {
                var loaderLag = consumers.LagOf(AnalyticsLoader.ConsumerName);
                // The analytics store may be down (the loader waits, the spool keeps its events):
                // the stats still answer, with the loader's own view of where it stands.
                AnalyticsStatus? loaded = null;
                string? unavailable = null;
                using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    limit.CancelAfter(AnalyticsStatusLimit);
                    try
                    {
                        loaded = await analytics.StatusAsync(limit.Token);
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        unavailable = e.Message;
                    }
                }
                var position = loaded?.Checkpoint ?? loaderLag?.Position ?? 0;
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
                    spool = new
                    {
                        depth = spool.Depth,
                        nextSequence = spool.NextSequence,
                        // With DynamoDB: accepted entries whose ids are still being claimed across nodes.
                        waitingForClaims = spool.AcceptedSequence - spool.NextSequence,
                        highWaterMark = store.SpoolHighWaterMark,
                    },
                    analytics = new
                    {
                        available = loaded is not null,
                        error = unavailable,
                        rows = loaded?.Rows,
                        position,
                        lagEvents = Math.Max(0, spool.AcceptedSequence - position),
                        lagSeconds = loaderLag?.Seconds ?? 0,
                        schemaVersion = loaded?.SchemaVersion,
                    },
                    storeKeys = services.GetService<KeyWriteRates>() is { } rates
                        ? new
                        {
                            unitsPerKeyPerSecondCap = HotKeys.UnitsPerKeyPerSecond,
                            peakUnitsPerSecond = rates.PeakUnitsPerSecond,
                            hottest = rates.Hottest(10).Select(k => new { key = k.Key, unitsLastSecond = k.UnitsLastSecond, peakUnitsPerSecond = k.PeakUnitsPerSecond }),
                        }
                        : null,
                    alerts = services.GetServices<ISpoolConsumer>().OfType<Detector>().FirstOrDefault() is { } detector
                        ? new { raised = detector.AlertsRaised, updated = detector.AlertsUpdated, shared = services.GetService<AlertSharing>()?.Shared }
                        : null,
                    ruleCache = new { kind = settings.CacheKind, hitRatio = Math.Round(rules.HitRatio, 4), hits = rules.Hits, misses = rules.Misses },
                    deadLetters = deadLetters.Counts() is var counts ? new { total = counts.Values.Sum(), byConsumer = counts } : null,
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
}
